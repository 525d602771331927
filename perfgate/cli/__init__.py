"""perfgate's command line: each command parses its options and calls one library function.

Only the modules of this package print, show progress or exit. Each module registers
its commands on the shared typer `app` when imported.
"""

from __future__ import annotations

import sys

from perfgate.cli import bench, calibrate, capacity, consume, report, run, targets, verify
from perfgate.cli.app import app, error_console
from perfgate.errors import EXIT_USAGE, PerfgateError

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


def main() -> None:
    """Run the CLI and map perfgate's errors to their exit codes."""
    try:
        app()
    except PerfgateError as exc:
        error_console.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
        sys.exit(exc.exit_code)
    except Exception as exc:
        from targets.errors import TargetError

        if isinstance(exc, TargetError):
            error_console.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
            sys.exit(EXIT_USAGE)
        raise
