"""The `verify` command: check a running service against every endpoint rule."""

from __future__ import annotations

import logging
from typing import Annotated

import typer
from rich.markup import escape

from perfgate.cli.app import VerboseOption, app, configure_logging, console
from perfgate.errors import EXIT_FAILED


@app.command()
def verify(
    url: Annotated[
        str, typer.Argument(help="Base URL of the service, such as http://127.0.0.1:8080.")
    ],
    timeout: Annotated[
        float, typer.Option(help="Seconds each request may take before it fails.", min=0.001)
    ] = 10.0,
    verbose: VerboseOption = False,
) -> None:
    """Check a running service against every endpoint rule; exit 1 if any rule fails."""
    from perfgate.verify import verify_target
    from perfgate.verify.model import Verdict

    configure_logging(verbose)
    if not verbose:
        # One line per request would bury the rule outcomes.
        logging.getLogger("httpx").setLevel(logging.WARNING)
    report = verify_target(url, timeout_s=timeout)

    for outcome in report.outcomes:
        label = {
            Verdict.PASSED: "[green]passed[/] ",
            Verdict.FAILED: "[bold red]FAILED[/] ",
            Verdict.SKIPPED: "[yellow]skipped[/]",
        }[outcome.verdict]
        console.print(f"{label} {escape(outcome.endpoint)}: {escape(outcome.name)}")
        if outcome.verdict is Verdict.SKIPPED:
            console.print(f"          {escape(outcome.message)}", highlight=False)
        if outcome.verdict is Verdict.FAILED:
            console.print(f"          [red]{escape(outcome.message)}[/]", highlight=False)
            if outcome.response is not None:
                response = outcome.response
                console.print(
                    f"          response to {escape(response.request)}: {response.status}",
                    highlight=False,
                )
                for name, value in response.headers:
                    console.print(f"            {escape(name)}: {escape(value)}", highlight=False)
                console.print(
                    f"            body ({response.body_bytes} bytes): {escape(response.body)!r}",
                    highlight=False,
                )

    failed = len(report.failures)
    counted = sum(outcome.verdict is not Verdict.SKIPPED for outcome in report.outcomes)
    if failed:
        console.print(f"[bold red]{failed} of {counted} rules failed[/] on {escape(url)}")
        raise typer.Exit(EXIT_FAILED)
    console.print(f"[green]all {counted} rules passed[/] on {escape(url)}")
