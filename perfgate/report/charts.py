"""Draw the report's plots with matplotlib and return them as inline SVG markup.

Figures are built with `matplotlib.figure.Figure`, never pyplot, so no global state
or GUI backend is involved. Glyphs are drawn as paths, so an SVG looks the same in
any browser without fonts. matplotlib escapes the text it copies into SVG comments,
and `_literal` stops text from run files being read as mathtext (`$...$`).
"""

from __future__ import annotations

import dataclasses
import io
import math
from collections.abc import Sequence

import matplotlib as mpl
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FixedLocator, FuncFormatter

from perfgate.report.spectrum import SpectrumPoint
from perfgate.results.schema import RunRecord

RUN_COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#17becf")
RAMP_COLOR = "#9e9e9e"
WINDOW_COLOR = "#4caf50"
FAILURE_COLOR = "#c62828"


@dataclasses.dataclass(frozen=True)
class SpectrumSeries:
    """One line of a spectrum plot."""

    label: str
    points: Sequence[SpectrumPoint]
    color: str
    dashed: bool = False


@dataclasses.dataclass(frozen=True)
class TimelineSeries:
    """One run's rows of one endpoint in timeseries.csv, for an overlay plot.

    Attributes:
        label: legend text.
        rows: the rows, with `elapsed_s`, `requests`, `p99_ms`.
        offset_s: subtracted from `elapsed_s`, so that runs line up at their window start.
        color: line colour.
    """

    label: str
    rows: pd.DataFrame
    offset_s: float
    color: str


def run_color(index: int) -> str:
    """Return the colour of the `index`-th run in overlays, cycling through a fixed set."""
    return RUN_COLORS[index % len(RUN_COLORS)]


def _literal(text: str) -> str:
    return text.replace("$", r"\$")


def to_svg(figure: Figure, key: str) -> str:
    """Render a figure as an `<svg>` element without the XML prologue.

    `key` seeds the ids matplotlib writes (clip paths, markers), so that SVGs of one
    page differ in ids and the same input gives the same bytes.
    """
    buffer = io.StringIO()
    with mpl.rc_context({"svg.hashsalt": key, "svg.fonttype": "path"}):
        figure.savefig(buffer, format="svg", metadata={"Date": None})
    markup = buffer.getvalue()
    return markup[markup.index("<svg") :]


def spectrum_svg(series: Sequence[SpectrumSeries], key: str) -> str:
    """Plot latency against percentile on HdrHistogram's `1/(1-p)` log axis."""
    figure = Figure(figsize=(6.4, 3.6), layout="constrained")
    axes = figure.add_subplot()
    widest = 10.0
    for line in series:
        if not line.points:
            continue
        x = [point.inverse_tail for point in line.points]
        y = [point.latency_ms for point in line.points]
        style = "--" if line.dashed else "-"
        axes.plot(x, y, style, color=line.color, label=_literal(line.label), linewidth=1.6)
        widest = max(widest, x[-1])

    decades = max(1, math.ceil(math.log10(widest)))
    axes.set_xscale("log")
    axes.set_xlim(1.0, 10.0**decades)
    axes.xaxis.set_major_locator(FixedLocator([10.0**power for power in range(decades + 1)]))
    axes.xaxis.set_major_formatter(FuncFormatter(_percentile_label))
    axes.xaxis.set_minor_locator(FixedLocator([]))
    axes.set_xlabel("percentile")
    axes.set_ylabel("latency (ms)")
    axes.set_ylim(bottom=0.0)
    axes.grid(True, which="major", alpha=0.3)
    if any(line.points for line in series):
        axes.legend(loc="upper left", fontsize="small")
    return to_svg(figure, key)


def _percentile_label(inverse_tail: float, _position: object) -> str:
    """Label the x tick at `1/(1-p)`: 1 is 0%, 10 is 90%, 1000 is 99.9%."""
    nines = round(math.log10(inverse_tail))
    if nines == 0:
        return "0%"
    percentile = 100.0 - 100.0 / 10**nines
    return f"{percentile:.{max(0, nines - 2)}f}%"


def timeline_svg(rows: pd.DataFrame, record: RunRecord, key: str) -> str:
    """Plot one endpoint's requests/s, p50/p99 and failures/s per second of the run.

    The ramp before the window and the stop after it are shaded grey, the
    measurement window green; dotted lines mark where each stage started.
    """
    figure = Figure(figsize=(6.8, 5.0), layout="constrained")
    rate_axes, latency_axes, failure_axes = figure.subplots(3, 1, sharex=True)
    elapsed = rows["elapsed_s"]

    rate_axes.fill_between(elapsed, rows["requests"], step="mid", alpha=0.35, color=RUN_COLORS[0])
    rate_axes.step(elapsed, rows["requests"], where="mid", color=RUN_COLORS[0], label="requests/s")
    rate_axes.set_ylabel("requests/s")
    if "users" in rows.columns and rows["users"].notna().any():
        users_axes = rate_axes.twinx()
        users_axes.step(elapsed, rows["users"], where="mid", color="#555555", linestyle=":")
        users_axes.set_ylabel("users", color="#555555")
        users_axes.set_ylim(bottom=0)

    latency_axes.plot(elapsed, rows["p50_ms"], color=RUN_COLORS[0], label="p50")
    latency_axes.plot(elapsed, rows["p99_ms"], color=RUN_COLORS[1], label="p99")
    latency_axes.set_ylabel("latency (ms)")
    latency_axes.set_ylim(bottom=0)
    latency_axes.legend(loc="upper left", fontsize="small", ncols=2)

    # One filled step path rather than a bar per second keeps hour-long runs light.
    failure_axes.fill_between(
        elapsed, rows["failures"], step="mid", color=FAILURE_COLOR, alpha=0.8, linewidth=0
    )
    failure_axes.set_ylabel("failures/s")
    failure_axes.set_xlabel("seconds since the run started")
    failure_axes.set_ylim(bottom=0, top=max(1.0, float(rows["failures"].max() or 0) * 1.15))

    for axes in (rate_axes, latency_axes, failure_axes):
        _mark_phases(axes, record, float(elapsed.max()) if len(elapsed) else 0.0)
        axes.grid(True, axis="y", alpha=0.3)
    _label_phases(rate_axes, record)
    rate_axes.set_ylim(bottom=0)
    return to_svg(figure, key)


def _mark_phases(axes: Axes, record: RunRecord, end_s: float) -> None:
    window = record.window
    if window.end_s > window.start_s:
        axes.axvspan(min(0.0, window.start_s), window.start_s, color=RAMP_COLOR, alpha=0.15)
        axes.axvspan(window.start_s, window.end_s, color=WINDOW_COLOR, alpha=0.12)
        axes.axvspan(window.end_s, max(end_s + 0.5, window.end_s), color=RAMP_COLOR, alpha=0.15)
    for stage in record.profile.stages:
        if stage.start_s > 0:
            axes.axvline(stage.start_s, color="#424242", linestyle=":", linewidth=0.8)


def _label_phases(axes: Axes, record: RunRecord) -> None:
    window = record.window
    transform = axes.get_xaxis_transform()
    if window.end_s > window.start_s:
        middle = (window.start_s + window.end_s) / 2
        axes.text(
            middle,
            1.02,
            "measurement window",
            transform=transform,
            ha="center",
            va="bottom",
            fontsize="small",
            color="#2e7d32",
        )
        axes.text(
            window.start_s / 2,
            1.02,
            "ramp",
            transform=transform,
            ha="center",
            va="bottom",
            fontsize="small",
            color="#616161",
        )
    else:
        axes.text(
            0.5,
            1.02,
            "no measurement window: steady state never reached",
            transform=axes.transAxes,
            ha="center",
            va="bottom",
            fontsize="small",
            color=FAILURE_COLOR,
        )


def overlay_timeline_svg(series: Sequence[TimelineSeries], key: str) -> str:
    """Plot several runs' requests/s and p99 per second, lined up at their window start."""
    figure = Figure(figsize=(6.8, 3.8), layout="constrained")
    rate_axes, latency_axes = figure.subplots(2, 1, sharex=True)
    for line in series:
        x = line.rows["elapsed_s"] - line.offset_s
        label = _literal(line.label)
        rate_axes.step(x, line.rows["requests"], where="mid", color=line.color, label=label)
        latency_axes.plot(x, line.rows["p99_ms"], color=line.color, label=label)
    rate_axes.set_ylabel("requests/s")
    rate_axes.set_ylim(bottom=0)
    latency_axes.set_ylabel("p99 (ms)")
    latency_axes.set_ylim(bottom=0)
    latency_axes.set_xlabel("seconds since the measurement window started")
    for axes in (rate_axes, latency_axes):
        axes.grid(True, axis="y", alpha=0.3)
    if series:
        rate_axes.legend(loc="lower right", fontsize="small")
    return to_svg(figure, key)


def trend_svg(frame: pd.DataFrame, metric_label: str, key: str) -> str:
    """Plot one metric over stored runs: columns `started_at`, `value`, `verdict`, `configuration`.

    Each configuration gets its own line, because joining runs of different
    configurations would draw a trend that no change caused. Invalid runs are
    hollow markers, because they prove nothing.
    """
    figure = Figure(figsize=(7.2, 3.6), layout="constrained")
    axes = figure.add_subplot()
    groups = list(frame.groupby("configuration", sort=False))
    for index, (configuration, rows) in enumerate(groups):
        color = run_color(index)
        label = _literal(str(configuration)) or "benchmark"
        axes.plot(rows["started_at"], rows["value"], color=color, linewidth=1.2, label=label)
        valid = rows[rows["verdict"] != "invalid"]
        invalid = rows[rows["verdict"] == "invalid"]
        axes.plot(valid["started_at"], valid["value"], "o", color=color)
        axes.plot(
            invalid["started_at"], invalid["value"], "o", markerfacecolor="white", color=color
        )
    if len(groups) > 1:
        figure.legend(loc="outside upper center", fontsize="small")
    axes.set_ylabel(_literal(metric_label))
    axes.set_xlabel("run start (UTC)")
    axes.grid(True, alpha=0.3)
    figure.autofmt_xdate()
    return to_svg(figure, key)
