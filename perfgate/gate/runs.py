"""Read a perfgate run folder into per-second series for the gate.

The samples of a run are its seconds inside the measurement window: from
timeseries.csv each second's request count (`rps`), and from histograms.hlog each
second's own latency percentiles (`p50_ms`, `p90_ms`, `p99_ms`, `p999_ms`) per
endpoint. Seconds without a completed request give no latency sample. Without the
interval log, p50 and p99 come from timeseries.csv and p90 and p999 are left out.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from pathlib import Path

import numpy as np

from perfgate.errors import ResultsError
from perfgate.gate.samples import ResultSet, Series, SourceKind
from perfgate.histograms.histogram import percentile_ms
from perfgate.histograms.hlog import read_interval_log
from perfgate.results.schema import RunRecord
from perfgate.results.store import RUN_FILE, read_run

TIMESERIES_FILE = "timeseries.csv"
HISTOGRAM_FILE = "histograms.hlog"
LATENCY_PERCENTILES = {"p50_ms": 50.0, "p90_ms": 90.0, "p99_ms": 99.0, "p999_ms": 99.9}


def is_run_path(path: Path) -> bool:
    """Return whether `path` is a run folder (it contains run.json) or a run.json file."""
    if path.is_dir():
        return (path / RUN_FILE).is_file()
    return path.name == RUN_FILE


def read_run_series(path: Path) -> ResultSet:
    """Read one run folder (or its run.json) into a ResultSet of per-second series.

    An invalid run is read all the same, with its reasons in `invalid_reasons`, so the
    gate can report why it cannot judge it.

    Raises:
        ResultsError: run.json or timeseries.csv is missing or damaged.
    """
    run_dir = path if path.is_dir() else path.parent
    record = read_run(run_dir)
    window = _window_seconds(run_dir / TIMESERIES_FILE)

    rps = {endpoint: [float(row[0]) for row in rows] for endpoint, rows in window.items()}
    latencies = _latencies_from_log(run_dir / HISTOGRAM_FILE, window)
    if latencies is None:
        latencies = _latencies_from_timeseries(window)

    parameters = _parameters(record)
    series: dict[str, Series] = {}
    for endpoint in sorted(rps):
        _add(
            series,
            f"{endpoint} rps",
            "rps",
            higher_is_better=True,
            values=rps[endpoint],
            parameters=parameters,
        )
        for metric in LATENCY_PERCENTILES:
            values = latencies.get(endpoint, {}).get(metric)
            if values is not None:
                _add(
                    series,
                    f"{endpoint} {metric}",
                    "ms",
                    higher_is_better=False,
                    values=values,
                    parameters=parameters,
                )

    return ResultSet(
        kind=SourceKind.PERFGATE_RUN,
        sources=(str(run_dir),),
        machine=_machine(record),
        series=series,
        invalid_reasons=_invalid_reasons(record),
    )


def _add(
    series: dict[str, Series],
    name: str,
    unit: str,
    *,
    higher_is_better: bool,
    values: list[float],
    parameters: dict[str, str],
) -> None:
    series[name] = Series(
        name=name,
        short_name=name,
        unit=unit,
        higher_is_better=higher_is_better,
        repeats=(np.asarray(values, dtype=np.float64),),
        parameters=parameters,
        extra_info={},
    )


# Each window row keeps (requests, p50_ms, p99_ms, second) as text from the CSV.
WindowRows = dict[str, list[tuple[str, str, str, int]]]


def _window_seconds(path: Path) -> WindowRows:
    try:
        with path.open(newline="", encoding="utf-8") as stream:
            rows = list(csv.DictReader(stream))
    except FileNotFoundError:
        raise ResultsError(
            f"{str(path)!r} not found; the gate needs the run's per-second samples, "
            "so pass a complete run folder written by perfgate run"
        ) from None

    window: WindowRows = defaultdict(list)
    try:
        for row in rows:
            if row["phase"] == "window":
                window[row["endpoint"]].append(
                    (row["requests"], row["p50_ms"], row["p99_ms"], int(row["second"]))
                )
    except (KeyError, ValueError, TypeError) as exc:
        raise ResultsError(
            f"{str(path)!r} is not a perfgate timeseries file ({exc!r}); restore it or rerun"
        ) from None
    return window


def _latencies_from_log(path: Path, window: WindowRows) -> dict[str, dict[str, list[float]]] | None:
    if not path.is_file():
        return None
    seconds = {row[3] for rows in window.values() for row in rows}
    latencies: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for interval in read_interval_log(path):
        if int(interval.start_s) not in seconds or interval.histogram.get_total_count() == 0:
            continue
        for metric, percentile in LATENCY_PERCENTILES.items():
            latencies[interval.tag][metric].append(percentile_ms(interval.histogram, percentile))
    return latencies


def _latencies_from_timeseries(window: WindowRows) -> dict[str, dict[str, list[float]]]:
    latencies: dict[str, dict[str, list[float]]] = {}
    for endpoint, rows in window.items():
        answered = [row for row in rows if row[1] and row[2]]
        latencies[endpoint] = {
            "p50_ms": [float(row[1]) for row in answered],
            "p99_ms": [float(row[2]) for row in answered],
        }
    return latencies


def _machine(record: RunRecord) -> dict[str, str]:
    environment = record.environment
    python = str(environment.get("python", ""))
    fields = {
        "machine": environment.get("machine"),
        "cpu_count": environment.get("cpu_count"),
        "python": ".".join(python.split(".")[:2]) if python else None,
        "implementation": environment.get("implementation"),
    }
    return {key: str(value) for key, value in fields.items() if value not in (None, "")}


def _parameters(record: RunRecord) -> dict[str, str]:
    target = record.target
    return {
        "profile": record.profile.name,
        "target": str(target.variant),
        "codec": str(target.codec),
        "loop": str(target.loop),
        "db": str(target.db),
        "router": str(target.router),
        "shards": str(target.shards),
    }


def _invalid_reasons(record: RunRecord) -> tuple[str, ...]:
    if record.verdict != "invalid":
        return ()
    reasons = record.invalid_reasons or ["its verdict is invalid"]
    return tuple(f"run {record.run_id} is invalid: {reason}" for reason in reasons)
