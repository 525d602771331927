"""Text of a comparison: formatted values and changes, and the rich table the CLI prints."""

from __future__ import annotations

from rich.table import Table

from perfgate.compare.changes import LATENCY_METRICS, Comparison, Direction, MetricChange

# Metrics where a higher value is better. For every other metric a lower value is better.
HIGHER_IS_BETTER = frozenset({"rps", "requests"})


def format_value(metric: str, value: float | None) -> str:
    """Format one metric's value with its unit (`12.31 ms`, `812.4/s`, `0.20%`)."""
    if value is None:
        return "-"
    if metric in LATENCY_METRICS:
        return f"{value:,.2f} ms"
    if metric == "rps":
        return f"{value:,.1f}/s"
    if metric == "fail_ratio":
        return f"{value:.2%}"
    return f"{value:,.0f}"


def format_change(change: MetricChange) -> str:
    """Format the change: `+12.3%` when relative, `+0.15 pp` for `fail_ratio`."""
    if change.change is None:
        return "-"
    if change.relative:
        return f"{change.change:+.1%}"
    return f"{change.change * 100:+.2f} pp"


def format_interval(change: MetricChange) -> str:
    """Format the confidence interval, or the reason it is missing."""
    if change.interval is None:
        return "needs 2+ repeats a side" if change.change is not None else "-"
    low, high = change.interval
    if change.relative:
        return f"[{low:+.1%}, {high:+.1%}]"
    return f"[{low * 100:+.2f}, {high * 100:+.2f}] pp"


def assessment(change: MetricChange) -> str:
    """Return `better`, `worse`, `unclear` or an empty string when there is no interval."""
    direction = change.direction
    if direction in (Direction.NO_INTERVAL, Direction.UNCLEAR):
        return "unclear" if direction is Direction.UNCLEAR else ""
    higher_is_better = change.metric in HIGHER_IS_BETTER
    return "better" if (direction is Direction.HIGHER) == higher_is_better else "worse"


STYLES = {"better": "green", "worse": "bold red", "unclear": "dim"}


def comparison_table(comparison: Comparison, title: str | None = None) -> Table:
    """Build the terminal table: one row per endpoint and metric."""
    level = f"{comparison.confidence:.0%}"
    table = Table(
        title=title or _title(comparison),
        title_justify="left",
        caption=_caption(comparison),
        caption_justify="left",
    )
    for column in ("endpoint", "metric"):
        table.add_column(column)
    for column in ("baseline", "candidate", "change", f"{level} interval"):
        table.add_column(column, justify="right")
    table.add_column("")

    previous = None
    for change in comparison.changes:
        if previous is not None and change.endpoint != previous:
            table.add_section()
        verdict = assessment(change)
        table.add_row(
            change.endpoint if change.endpoint != previous else "",
            change.metric,
            format_value(change.metric, change.baseline_mean),
            format_value(change.metric, change.candidate_mean),
            format_change(change),
            format_interval(change),
            verdict,
            style=STYLES.get(verdict),
        )
        previous = change.endpoint
    return table


def _title(comparison: Comparison) -> str:
    return (
        f"baseline {_side(comparison.baseline_ids)} vs candidate {_side(comparison.candidate_ids)}"
    )


def _side(run_ids: tuple[str, ...]) -> str:
    return run_ids[0] if len(run_ids) == 1 else f"{len(run_ids)} repeats"


def _caption(comparison: Comparison) -> str:
    lines = ["Values are means over repeats; intervals are percentile bootstrap over the repeats."]
    if comparison.invalid_runs:
        invalid = ", ".join(comparison.invalid_runs)
        lines.append(f"Invalid runs included, whose numbers prove nothing: {invalid}")
    return "\n".join(lines)
