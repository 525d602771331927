"""perfgate's command line: each command parses its options and calls one library function.

Only the modules of this package print, show progress or exit. Each module registers
its commands on the shared typer `app` when imported.
"""

from __future__ import annotations

import sys

from rich.text import Text

from perfgate.cli import bench, calibrate, capacity, consume, report, run, targets, verify
from perfgate.cli.app import app, error_console
from perfgate.errors import EXIT_USAGE, PerfgateError

# The shell's convention for a command ended by SIGINT (128 + 2).
EXIT_INTERRUPTED = 130

__all__ = [
    "app",
    "bench",
    "calibrate",
    "capacity",
    "consume",
    "main",
    "report",
    "run",
    "targets",
    "verify",
]


def _print_error(message: str) -> None:
    """Print an error without reading it as rich markup: messages quote `[[stages]]`."""
    text = Text("error: ", style="bold red")
    text.append(message)
    error_console.print(text, soft_wrap=True)


def main() -> None:
    """Run the CLI and map perfgate's errors to their exit codes."""
    from targets.errors import TargetError

    try:
        app()
    except PerfgateError as exc:
        _print_error(str(exc))
        sys.exit(exc.exit_code)
    except TargetError as exc:
        _print_error(str(exc))
        sys.exit(EXIT_USAGE)
    except OSError as exc:
        # A file or folder that cannot be read or written: the message names the path.
        _print_error(f"{exc}; check the path and its permissions")
        sys.exit(EXIT_USAGE)
    except KeyboardInterrupt:
        _print_error("interrupted; every process this command started has been stopped")
        sys.exit(EXIT_INTERRUPTED)
