"""timeseries.csv: one row per second and endpoint, each second's own percentiles.

Each row's p50/p99 come from that second's histogram alone, never from the run so
far. A `total` row per second merges all endpoints. Seconds without a completed
request still get a row with zero requests, so gaps show as zeros, not as missing
data. `phase` is `ramp` before the window, `window` inside it and `stop` after it.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict

from hdrh.histogram import HdrHistogram

from perfgate.histograms.histogram import new_histogram, percentile_ms
from perfgate.results.build import TOTAL, window_seconds
from perfgate.swarm.collector import SecondSample
from perfgate.swarm.master import SwarmResult, Tick, Timeline

COLUMNS = (
    "second",
    "elapsed_s",
    "endpoint",
    "requests",
    "failures",
    "p50_ms",
    "p99_ms",
    "users",
    "target_rps",
    "generator_cpu_percent",
    "master_rss_mb",
    "target_rss_mb",
    "stage",
    "phase",
)


def timeseries_rows(timeline: Timeline, result: SwarmResult) -> list[dict[str, object]]:
    """Build the rows of timeseries.csv in second, then endpoint order."""
    by_second: dict[int, dict[str, SecondSample]] = defaultdict(dict)
    for sample in result.snapshot.samples:
        by_second[sample.second][sample.endpoint] = sample
    endpoints = sorted({sample.endpoint for sample in result.snapshot.samples})
    ticks = {tick.second: tick for tick in timeline.ticks}
    first_window, end_window = window_seconds(timeline)

    first = int(timeline.started_at_s)
    last = max([int(timeline.ended_at_s), *by_second.keys()])
    rows: list[dict[str, object]] = []
    for second in range(first, last + 1):
        samples = by_second.get(second, {})
        tick = ticks.get(second)
        phase = _phase(second, first_window, end_window)
        merged = new_histogram()
        total_requests = total_failures = 0
        for endpoint in endpoints:
            found = samples.get(endpoint)
            histogram = found.histogram if found else new_histogram()
            requests = found.requests if found else 0
            failures = found.failures if found else 0
            merged.add(histogram)
            total_requests += requests
            total_failures += failures
            rows.append(
                _row(second, timeline, endpoint, requests, failures, histogram, tick, phase)
            )
        rows.append(
            _row(second, timeline, TOTAL, total_requests, total_failures, merged, tick, phase)
        )
    return rows


def _row(  # noqa: PLR0917 - one argument per CSV column group
    second: int,
    timeline: Timeline,
    endpoint: str,
    requests: int,
    failures: int,
    histogram: HdrHistogram,
    tick: Tick | None,
    phase: str,
) -> dict[str, object]:
    return {
        "second": second,
        "elapsed_s": second - int(timeline.started_at_s),
        "endpoint": endpoint,
        "requests": requests,
        "failures": failures,
        "p50_ms": percentile_ms(histogram, 50.0) if requests else "",
        "p99_ms": percentile_ms(histogram, 99.0) if requests else "",
        "users": tick.users if tick else "",
        "target_rps": tick.target_rps if tick else "",
        "generator_cpu_percent": tick.cpu_max_percent if tick else "",
        "master_rss_mb": _blank_if_none(tick.master_rss_mb if tick else None),
        "target_rss_mb": _blank_if_none(tick.target_rss_mb if tick else None),
        "stage": tick.stage if tick else "",
        "phase": phase,
    }


def render_csv(rows: list[dict[str, object]]) -> bytes:
    """Render rows as CSV bytes with a header line."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


def _blank_if_none(value: float | None) -> float | str:
    return "" if value is None else value


def _phase(second: int, first_window: int, end_window: int) -> str:
    if second < first_window:
        return "ramp"
    if second < end_window:
        return "window"
    return "stop"
