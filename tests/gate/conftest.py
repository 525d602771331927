"""Builders of gate inputs: pytest-benchmark JSON files and perfgate run folders."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from perfgate.histograms.histogram import new_histogram
from perfgate.histograms.hlog import IntervalHistogram, write_interval_log
from perfgate.results.schema import (
    RUN_SCHEMA,
    EndpointResult,
    GeneratorInfo,
    LatencyMs,
    ProfileInfo,
    RunRecord,
    TargetInfo,
    WindowInfo,
)
from perfgate.results.store import write_run

MACHINE_INFO: dict[str, Any] = {
    "machine": "x86_64",
    "python_implementation": "CPython",
    "python_version": "3.11.7",
    "cpu": {"brand_raw": "Test CPU", "count": 2},
}

BenchmarkWriter = Callable[..., Path]
RunWriter = Callable[..., Path]
SampleMaker = Callable[..., list[float]]


def lognormal_samples(seed: int, count: int = 200, median_s: float = 1e-3) -> list[float]:
    """Return `count` timings around `median_s` with 5% log-normal noise."""
    rng = np.random.default_rng(seed)
    return [float(value) for value in median_s * rng.lognormal(0.0, 0.05, count)]


@pytest.fixture
def make_samples() -> SampleMaker:
    """Return `lognormal_samples`: timings around a median with 5% log-normal noise."""
    return lognormal_samples


@pytest.fixture
def machine_info() -> dict[str, Any]:
    """The default machine_info block of every written benchmark file."""
    return dict(MACHINE_INFO)


@pytest.fixture
def write_benchmarks(tmp_path: Path) -> BenchmarkWriter:
    """Return a function that writes a pytest-benchmark JSON file and returns its path."""
    counter = iter(range(10_000))

    def write(
        benchmarks: Mapping[str, Sequence[float] | None],
        *,
        version: object = "5.3.1",
        machine: Mapping[str, Any] | None = None,
        params: Mapping[str, Mapping[str, object]] | None = None,
        extra_info: Mapping[str, Mapping[str, object]] | None = None,
        name: str | None = None,
    ) -> Path:
        entries = []
        for bench_name, data in benchmarks.items():
            stats: dict[str, object] = {"median": 0.0, "rounds": len(data or ())}
            if data is not None:
                stats["data"] = list(data)
            entries.append(
                {
                    "group": None,
                    "name": bench_name,
                    "fullname": f"microbench/test_example.py::{bench_name}",
                    "params": dict((params or {}).get(bench_name, {})),
                    "extra_info": dict((extra_info or {}).get(bench_name, {})),
                    "options": {"timer": "perf_counter", "disable_gc": False, "min_rounds": 5},
                    "stats": stats,
                }
            )
        document = {
            "machine_info": dict(machine if machine is not None else MACHINE_INFO),
            "commit_info": {},
            "benchmarks": entries,
            "datetime": "2026-12-04T00:00:00",
            "version": version,
        }
        path = tmp_path / (name or f"bench-{next(counter)}.json")
        path.write_text(json.dumps(document), encoding="utf-8")
        return path

    return write


def _record(run_id: str, verdict: str, invalid_reasons: list[str], codec: str) -> RunRecord:
    latency = LatencyMs(min=1.0, mean=2.0, p50=2.0, p90=3.0, p99=4.0, p999=5.0, max=6.0)
    endpoint = EndpointResult("GET /json", 100, 0, 10.0, 0.0, latency)
    return RunRecord(
        schema=RUN_SCHEMA,
        run_id=run_id,
        started_at="2026-12-04T00:00:00Z",
        ended_at="2026-12-04T00:01:00Z",
        verdict=verdict,
        invalid_reasons=invalid_reasons,
        profile=ProfileInfo("smoke", "profiles/smoke.toml", "", 0.0, []),
        target=TargetInfo(
            "http://127.0.0.1:8080", True, "raw", codec, "uvloop", "sqlite", "jump", 4
        ),
        environment={
            "python": "3.11.7",
            "implementation": "CPython",
            "machine": "x86_64",
            "cpu_count": 2,
        },
        generator=GeneratorInfo(2, 0, 50.0, False, 0, 100, 100, 100, 0),
        window=WindowInfo(0.0, 30.0, True),
        total=endpoint,
        endpoints=[endpoint],
        thresholds=[],
    )


@pytest.fixture
def write_run_folder(tmp_path: Path) -> RunWriter:
    """Return a function that writes a run folder with per-second samples and returns it."""

    def write(
        run_id: str,
        *,
        seconds: int = 20,
        latency_us: int = 2000,
        rps: int = 100,
        verdict: str = "pass",
        invalid_reasons: Sequence[str] = (),
        codec: str = "orjson",
        with_log: bool = True,
    ) -> Path:
        run_dir = tmp_path / run_id
        run_dir.mkdir()
        write_run(run_dir, _record(run_id, verdict, list(invalid_reasons), codec))

        start = 1_700_000_000
        rng = np.random.default_rng(len(run_id))
        rows = [
            "second,elapsed_s,endpoint,requests,failures,p50_ms,p99_ms,users,generator_cpu_percent,stage,phase"
        ]
        intervals = []
        for offset in range(-2, seconds):
            phase = "ramp" if offset < 0 else "window"
            histogram = new_histogram()
            for value in rng.normal(latency_us, latency_us * 0.02, rps):
                histogram.record_value(max(1, round(value)))
            p50 = histogram.get_value_at_percentile(50.0) / 1000.0
            p99 = histogram.get_value_at_percentile(99.0) / 1000.0
            requests = rps + int(rng.integers(-2, 3))
            second = start + offset
            rows.append(f"{second},{offset},GET /json,{requests},0,{p50},{p99},10,50.0,a,{phase}")
            intervals.append(IntervalHistogram("GET /json", float(start + offset), 1.0, histogram))
        (run_dir / "timeseries.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
        if with_log:
            write_interval_log(run_dir / "histograms.hlog", float(start - 2), intervals)
        return run_dir

    return write
