"""Show a trend: a rich table with a bar per run for the terminal, and an HTML page."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
from markupsafe import Markup
from rich.table import Table

from perfgate.history.trend import MetricSpec
from perfgate.report.charts import trend_svg
from perfgate.report.templating import render_template
from perfgate.results.store import write_atomic

BAR_WIDTH = 20
SPARK_LEVELS = "▁▂▃▄▅▆▇█"
VERDICT_STYLES = {"pass": "green", "fail": "red", "invalid": "yellow"}


def sparkline(values: list[float]) -> str:
    """Draw values as one line of block characters, lowest to highest of the series."""
    finite = [value for value in values if math.isfinite(value)]
    if not finite:
        return ""
    low, high = min(finite), max(finite)
    span = high - low
    characters = []
    for value in values:
        if not math.isfinite(value):
            characters.append(" ")
            continue
        level = 0 if span == 0 else round((value - low) / span * (len(SPARK_LEVELS) - 1))
        characters.append(SPARK_LEVELS[level])
    return "".join(characters)


def trend_table(trend: pd.DataFrame, spec: MetricSpec) -> Table:
    """Build the terminal table of a trend: one row per source, oldest first."""
    unit = str(trend["unit"].iloc[0]) if len(trend) else ""
    values = [float(value) for value in trend["value"]]
    table = Table(
        title=f"{spec} ({unit}) over {len(trend)} stored result(s)  {sparkline(values)}",
        title_justify="left",
        caption="change: against the previous result of the same configuration",
        caption_justify="left",
    )
    table.add_column("started (UTC)", no_wrap=True)
    table.add_column("run")
    table.add_column("configuration", no_wrap=True, overflow="ellipsis", max_width=34)
    table.add_column("verdict")
    table.add_column("value", justify="right")
    table.add_column("change", justify="right")
    table.add_column("", no_wrap=True, min_width=BAR_WIDTH)

    highest = max((value for value in values if math.isfinite(value)), default=0.0)
    # Each change is against the previous result of the same configuration.
    previous: dict[str, float] = {}
    for row, value in zip(trend.itertuples(index=False), values, strict=True):
        before = previous.get(str(row.configuration))
        change = "" if not before else f"{value / before - 1:+.1%}"
        bar = "█" * round(value / highest * BAR_WIDTH) if highest > 0 else ""
        table.add_row(
            f"{row.started_at:%Y-%m-%d %H:%M:%S}",
            str(row.source_id),
            str(row.configuration),
            f"[{VERDICT_STYLES.get(str(row.verdict), 'default')}]{row.verdict}[/]",
            f"{value:,.3f}",
            change,
            bar,
        )
        previous[str(row.configuration)] = value
    return table


def write_trend_page(trend: pd.DataFrame, spec: MetricSpec, out: Path) -> Path:
    """Write a self-contained HTML page with the trend plot and its table; return `out`."""
    unit = str(trend["unit"].iloc[0]) if len(trend) else ""
    label = f"{spec} ({unit})"
    plot = Markup(trend_svg(trend, label, "trend"))  # noqa: S704 (matplotlib's SVG)
    values = [float(value) for value in trend["value"]]
    rows = [
        {
            "started_at": f"{row.started_at:%Y-%m-%d %H:%M:%S}",
            "source_id": str(row.source_id),
            "configuration": str(row.configuration),
            "verdict": str(row.verdict),
            "git_commit": str(row.git_commit)[:12],
            "value": f"{value:,.3f}",
        }
        for row, value in zip(trend.itertuples(index=False), values, strict=True)
    ]
    page = render_template("trend.html.j2", label=label, plot=plot, rows=rows)
    write_atomic(out, page.encode("utf-8"))
    return out
