"""Rich renderings of results for the terminal; the CLI prints what these return."""

from __future__ import annotations

from rich.markup import escape
from rich.table import Table

from perfgate.results.build import counts_in_total
from perfgate.results.schema import EndpointResult, RunRecord

VERDICT_STYLES = {"pass": "bold green", "fail": "bold red", "invalid": "bold yellow"}


def summary_table(record: RunRecord) -> Table:
    """Build the per-endpoint summary of a run's measurement window."""
    window_s = record.window.end_s - record.window.start_s
    corrected = ", latency from intended start" if record.profile.model == "open" else ""
    table = Table(
        title=f"run {record.run_id}: {record.profile.name}, window {window_s:.0f} s{corrected}",
        title_justify="left",
    )
    table.add_column("endpoint")
    for column in (
        "requests",
        "failures",
        "rps",
        "p50 ms",
        "p90 ms",
        "p99 ms",
        "p99.9 ms",
        "max ms",
        "KiB/s",
    ):
        table.add_column(column, justify="right")
    http = [endpoint for endpoint in record.endpoints if counts_in_total(endpoint.name)]
    others = [endpoint for endpoint in record.endpoints if not counts_in_total(endpoint.name)]
    for endpoint in http:
        table.add_row(*_cells(endpoint))
    table.add_section()
    table.add_row(*_cells(record.total), style="bold")
    if others:
        # Flows and custom measurements are not HTTP requests of their own, so they
        # come after the total, which does not include them.
        table.add_section()
        for endpoint in others:
            table.add_row(*_cells(endpoint), style="dim")
    return table


def _cells(result: EndpointResult) -> list[str]:
    latency = result.latency_ms
    return [
        escape(result.name),
        f"{result.requests:,}",
        f"{result.failures:,}",
        f"{result.rps:,.1f}",
        f"{latency.p50:.2f}",
        f"{latency.p90:.2f}",
        f"{latency.p99:.2f}",
        f"{latency.p999:.2f}",
        f"{latency.max:.2f}",
        f"{result.bandwidth_bytes_per_s / 1024:,.1f}",
    ]


def thresholds_table(record: RunRecord) -> Table | None:
    """Build the table of judged thresholds, or None when the run had none."""
    if not record.thresholds:
        return None
    table = Table(title="thresholds", title_justify="left")
    table.add_column("threshold")
    table.add_column("value", justify="right")
    table.add_column("result")
    for threshold in record.thresholds:
        value = "no data" if threshold.value is None else f"{threshold.value:g}"
        result = "[green]passed[/]" if threshold.passed else "[red]failed[/]"
        table.add_row(escape(threshold.expr), value, result)
    return table


def verdict_line(record: RunRecord) -> str:
    """Return the one-line verdict with its reasons, as rich markup."""
    style = VERDICT_STYLES.get(record.verdict, "bold")
    line = f"verdict: [{style}]{record.verdict}[/]"
    if record.aborted_by is not None and not record.invalid_reasons:
        line += escape(f" (ended early: threshold {record.aborted_by!r} failed)")
    if record.invalid_reasons:
        line += "\n" + "\n".join(f"  - {escape(reason)}" for reason in record.invalid_reasons)
    return line
