"""Results of verifying a service: one outcome per rule, with the offending response."""

from __future__ import annotations

import dataclasses
import enum

import httpx

from perfgate.errors import EXIT_FAILED, PerfgateError

BODY_EXCERPT_CHARS = 300
"""How much of an offending response body a failure shows."""


class Verdict(enum.Enum):
    """Final state of one rule."""

    PASSED = "passed"
    FAILED = "failed"
    SKIPPED = "skipped"


@dataclasses.dataclass(frozen=True)
class ResponseExcerpt:
    """The parts of an HTTP response a reader needs to see why a rule failed.

    Attributes:
        request: method and path, such as `GET /json`.
        status: the response status code.
        headers: every response header, in order, names as sent.
        body: the start of the body, decoded as UTF-8 with replacement characters.
        body_bytes: the whole body's size in bytes.
    """

    request: str
    status: int
    headers: tuple[tuple[str, str], ...]
    body: str
    body_bytes: int

    @classmethod
    def of(cls, response: httpx.Response) -> ResponseExcerpt:
        """Summarize `response`, cutting its body to `BODY_EXCERPT_CHARS` characters."""
        request = response.request
        target = request.url.raw_path.decode("ascii", errors="replace")
        return cls(
            request=f"{request.method} {target}",
            status=response.status_code,
            headers=tuple(
                (name.decode("latin-1"), value.decode("latin-1"))
                for name, value in response.headers.raw
            ),
            body=response.content[:BODY_EXCERPT_CHARS].decode("utf-8", errors="replace"),
            body_bytes=len(response.content),
        )


class RuleViolationError(PerfgateError):
    """Raised by a rule that does not hold; the message gives what was expected and found.

    `verify_target` catches it and records a failed outcome, so it never reaches the CLI.
    """

    exit_code = EXIT_FAILED


@dataclasses.dataclass(frozen=True)
class RuleOutcome:
    """Outcome of one rule on the service.

    Attributes:
        endpoint: the endpoint group, such as `/json` or `/users`.
        name: what the rule checks, as a sentence fragment.
        verdict: passed, failed or skipped.
        message: why it failed or was skipped; empty when it passed.
        response: the response the rule looked at last, when there was one.
    """

    endpoint: str
    name: str
    verdict: Verdict
    message: str = ""
    response: ResponseExcerpt | None = None

    @property
    def passed(self) -> bool:
        """Whether the rule held; a skipped rule neither passes nor fails."""
        return self.verdict is Verdict.PASSED


@dataclasses.dataclass(frozen=True)
class VerifyReport:
    """Every rule's outcome on one service.

    Attributes:
        url: the service's base URL.
        outcomes: one outcome per rule, in the order the rules ran.
    """

    url: str
    outcomes: tuple[RuleOutcome, ...]

    @property
    def failures(self) -> list[RuleOutcome]:
        """The rules that did not hold."""
        return [outcome for outcome in self.outcomes if outcome.verdict is Verdict.FAILED]

    @property
    def passed(self) -> bool:
        """Whether no rule failed; skipped rules do not count against the service."""
        return not self.failures
