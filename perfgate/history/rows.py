"""Turn a run.json or a pytest-benchmark JSON file into the history store's rows.

Run rows carry each endpoint's (and `total`'s) run.json metrics: latencies in
milliseconds, `rps`, counts and `fail_ratio`. Open-model runs also store
`latency_uncorrected_ms` as metrics named `p99_uncorrected` and so on. Benchmark
rows carry pytest-benchmark's statistics per benchmark, times in microseconds.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import msgspec

from perfgate.compare.changes import COUNT_METRICS, LATENCY_METRICS, metric_value
from perfgate.compare.groups import configuration_label
from perfgate.errors import ResultsError
from perfgate.results.schema import EndpointResult
from perfgate.results.store import read_run

COUNT_UNITS = {"rps": "1/s", "requests": "count", "failures": "count", "fail_ratio": "ratio"}
BENCH_TIME_STATISTICS = ("min", "max", "mean", "median", "stddev", "iqr")
SECONDS_TO_US = 1_000_000.0
UNCORRECTED_SUFFIX = "_uncorrected"


def run_rows(run_dir: Path) -> list[dict[str, object]]:
    """Build the rows of one run folder: one per endpoint and metric.

    Raises:
        ResultsError: run.json is missing, truncated or invalid.
    """
    record = read_run(run_dir)
    common: dict[str, object] = {
        "kind": "run",
        "source_id": record.run_id,
        "started_at": record.started_at,
        "path": str(run_dir),
        "verdict": record.verdict,
        "profile": record.profile.name,
        "configuration": configuration_label(record),
        "git_commit": str(record.environment.get("git_commit") or ""),
    }
    rows = []
    for result in [*record.endpoints, record.total]:
        for metric, value, unit in _endpoint_metrics(result):
            rows.append(
                {**common, "name": result.name, "metric": metric, "value": value, "unit": unit}
            )
    return rows


def _endpoint_metrics(result: EndpointResult) -> list[tuple[str, float, str]]:
    metrics = [
        (metric, metric_value(result, metric), COUNT_UNITS[metric]) for metric in COUNT_METRICS
    ]
    metrics += [(metric, metric_value(result, metric), "ms") for metric in LATENCY_METRICS]
    uncorrected = result.latency_uncorrected_ms
    if uncorrected is not None:
        metrics += [
            (metric + UNCORRECTED_SUFFIX, float(getattr(uncorrected, metric)), "ms")
            for metric in LATENCY_METRICS
        ]
    return metrics


class _BenchStats(msgspec.Struct):
    min: float
    max: float
    mean: float
    median: float
    stddev: float
    iqr: float
    ops: float
    rounds: int


class _Benchmark(msgspec.Struct):
    name: str
    fullname: str
    stats: _BenchStats


class _CommitInfo(msgspec.Struct):
    id: str | None = None


class _BenchFile(msgspec.Struct):
    datetime: str
    benchmarks: list[_Benchmark]
    commit_info: _CommitInfo = msgspec.field(default_factory=_CommitInfo)


def bench_rows(json_path: Path) -> list[dict[str, object]]:
    """Build the rows of one pytest-benchmark JSON file: one per benchmark and statistic.

    Raises:
        ResultsError: the file is missing, not JSON, or not pytest-benchmark's format.
    """
    bench = _read_bench(json_path)
    common: dict[str, Any] = {
        "kind": "bench",
        "source_id": json_path.stem,
        "started_at": bench.datetime,
        "path": str(json_path),
        "verdict": "",
        "profile": "bench",
        "configuration": "",
        "git_commit": bench.commit_info.id or "",
    }
    rows: list[dict[str, object]] = []
    for benchmark in bench.benchmarks:
        stats = benchmark.stats
        named = {**common, "name": benchmark.fullname}
        for statistic in BENCH_TIME_STATISTICS:
            value = getattr(stats, statistic) * SECONDS_TO_US
            rows.append({**named, "metric": statistic, "value": value, "unit": "us"})
        rows.append({**named, "metric": "ops", "value": stats.ops, "unit": "1/s"})
        rows.append({**named, "metric": "rounds", "value": float(stats.rounds), "unit": "count"})
    return rows


def _read_bench(json_path: Path) -> _BenchFile:
    try:
        raw = json_path.read_bytes()
    except FileNotFoundError:
        msg = f"benchmark file {str(json_path)!r} not found; run perfgate bench first"
        raise ResultsError(msg) from None
    try:
        return msgspec.json.decode(raw, type=_BenchFile)
    except msgspec.DecodeError as exc:
        msg = (
            f"benchmark file {str(json_path)!r} is not pytest-benchmark JSON ({exc}); "
            "write it with --benchmark-json or --benchmark-save"
        )
        raise ResultsError(msg) from None
