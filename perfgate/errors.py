"""perfgate's exceptions and the exit code each one maps to.

    PerfgateError                  root; exit code 2 unless a subclass says otherwise
    ├── ConfigError                bad option, profile or file: exit 2, fix the input
    │   ├── ProfileError           a profile file is invalid
    │   └── VersionMismatchError   a worker's versions differ from its master's
    ├── ResultsError               a result file is missing, truncated or of an unknown schema
    ├── VerificationError          the target broke an endpoint rule before the load: exit 1
    └── InvalidRunError            the run cannot count as a measurement: exit 3
        ├── TargetUnreachableError the target never answered
        └── SwarmError             a Locust process failed to start or was lost

The CLI catches `PerfgateError`, prints its message and exits with `exit_code`.
Library code raises; it never prints or exits.
"""

from __future__ import annotations

EXIT_PASSED = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_INVALID = 3


class PerfgateError(Exception):
    """Root of perfgate's errors."""

    exit_code = EXIT_USAGE


class ConfigError(PerfgateError):
    """An option, profile or input file is invalid; the message names the value and the fix."""

    exit_code = EXIT_USAGE


class ProfileError(ConfigError):
    """A load profile is invalid."""


class VersionMismatchError(ConfigError):
    """A worker and its master run different perfgate, Locust or wire-format versions."""


class ResultsError(PerfgateError):
    """A result file cannot be read: missing, truncated, corrupt or of an unknown schema."""

    exit_code = EXIT_USAGE


class VerificationError(PerfgateError):
    """The target broke an endpoint rule, so `perfgate run --verify` sent no load."""

    exit_code = EXIT_FAILED


class InvalidRunError(PerfgateError):
    """The run cannot count as a measurement."""

    exit_code = EXIT_INVALID


class TargetUnreachableError(InvalidRunError):
    """The target did not respond on its URL."""


class SwarmError(InvalidRunError):
    """A Locust master or worker failed to start, or was lost."""
