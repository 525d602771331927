"""Synthetic run folders written by perfgate's own writers, for tests and demonstrations.

A synthetic run goes through the same builders as `perfgate run` (`build_record`,
`timeseries_rows`, `interval_histograms`), so its run.json, timeseries.csv and
histograms.hlog agree with each other exactly as a real run's files do. Latencies
are drawn from a log-normal distribution with a fixed seed.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from perfgate.histograms.histogram import clamp_us, new_histogram
from perfgate.histograms.hlog import IntervalHistogram, write_interval_log
from perfgate.profiles.model import Profile, Stage
from perfgate.results.build import RunInputs, build_record, interval_histograms
from perfgate.results.schema import RunRecord, TargetInfo
from perfgate.results.store import write_atomic, write_run
from perfgate.results.timeseries import render_csv, timeseries_rows
from perfgate.swarm.collector import CollectorSnapshot, SecondSample, WorkerAccount
from perfgate.swarm.master import StageSpan, SwarmResult, Tick, Timeline

UNCORRECTED_SUFFIX = "#uncorrected"


@dataclasses.dataclass(frozen=True)
class SyntheticEndpoint:
    """One endpoint's made-up load and latency.

    Attributes:
        name: endpoint name such as `GET /db`.
        rate_rps: requests per second at full load.
        median_ms: median of the log-normal latency distribution.
        sigma: shape of the log-normal distribution; larger means a longer tail.
        failure_ratio: share of requests that fail.
        error_message: the message recorded for each failure.
    """

    name: str
    rate_rps: int
    median_ms: float
    sigma: float = 0.6
    failure_ratio: float = 0.0
    error_message: str = "HTTPError: 500 Server Error"


@dataclasses.dataclass(frozen=True)
class SyntheticRun:
    """The shape of a synthetic run.

    Attributes:
        run_id: the run folder's name and run.json's `run_id`.
        endpoints: the endpoints and their latencies.
        started_at_s: wall-clock start, seconds since the epoch.
        ramp_s: length of the unmeasured ramp stage.
        steady_s: length of the measured stage.
        warmup_s: time after the ramp kept out of the window.
        users: users at full load.
        variant: the target variant recorded in run.json.
        codec: the codec recorded in run.json.
        open_model: whether to add uncorrected intervals (`<endpoint>#uncorrected`).
        seed: seed of the random latencies.
    """

    run_id: str
    endpoints: Sequence[SyntheticEndpoint]
    started_at_s: float = 1_800_000_000.0
    ramp_s: int = 4
    steady_s: int = 12
    warmup_s: float = 1.0
    users: int = 16
    variant: str = "raw"
    codec: str = "orjson"
    open_model: bool = False
    seed: int = 0


def write_synthetic_run(out: Path, shape: SyntheticRun) -> Path:
    """Write run.json, timeseries.csv and histograms.hlog of a made-up run into `out/<run_id>`.

    Returns:
        The run folder.
    """
    run_dir = out / shape.run_id
    run_dir.mkdir(parents=True, exist_ok=False)
    record, timeline, result = _build(shape)

    intervals = interval_histograms(result)
    if shape.open_model:
        intervals += _uncorrected_intervals(result)
    write_interval_log(run_dir / "histograms.hlog", timeline.started_at_s, intervals)
    write_atomic(run_dir / "timeseries.csv", render_csv(timeseries_rows(timeline, result)))
    write_run(run_dir, record)
    return run_dir


def synthetic_record(shape: SyntheticRun) -> RunRecord:
    """Build the run.json record of a made-up run without writing any file."""
    return _build(shape)[0]


def _build(shape: SyntheticRun) -> tuple[RunRecord, Timeline, SwarmResult]:
    timeline = _timeline(shape)
    result = _result(shape)
    target = TargetInfo(
        url="http://127.0.0.1:8000",
        started_by_perfgate=True,
        variant=shape.variant,
        codec=shape.codec,
        loop="uvloop",
        db="sqlite",
        router="jump",
        shards=4,
    )
    environment: dict[str, object] = {"python": "3.11", "cpu_count": 2}
    inputs = RunInputs(shape.run_id, _profile(shape), target, environment)
    return build_record(inputs, timeline, result), timeline, result


def _profile(shape: SyntheticRun) -> Profile:
    return Profile(
        name="synthetic",
        path=Path("synthetic.toml"),
        description="Made-up load for tests and demonstrations.",
        locustfile=None,
        stages=(
            Stage("ramp", shape.ramp_s, shape.users, shape.users / shape.ramp_s, False),
            Stage("steady", shape.steady_s, shape.users, shape.users, True),
        ),
        warmup_s=shape.warmup_s,
        thresholds=("p99 < 500ms", "fail_ratio < 5%"),
    )


def _timeline(shape: SyntheticRun) -> Timeline:
    start = shape.started_at_s
    ramp_end = start + shape.ramp_s
    steady_end = ramp_end + shape.steady_s
    return Timeline(
        started_at_s=start,
        ended_at_s=steady_end + 0.5,
        stages=(
            StageSpan("ramp", start, ramp_end, shape.users, False),
            StageSpan("steady", ramp_end, steady_end, shape.users, True),
        ),
        window_start_s=ramp_end + shape.warmup_s,
        window_end_s=steady_end,
        ticks=tuple(_ticks(shape)),
    )


def _result(shape: SyntheticRun) -> SwarmResult:
    samples = _samples(shape)
    total = sum(sample.requests for sample in samples)
    account = WorkerAccount(
        "synthetic-worker",
        last_sequence=1,
        finished=True,
        recorded_total=total,
        received_total=total,
    )
    return SwarmResult(
        snapshot=CollectorSnapshot(tuple(samples), (account,), 0),
        joined_workers=("synthetic-worker",),
        lost_workers=(),
        locust_requests=total,
    )


def _load_fraction(shape: SyntheticRun, offset_s: int) -> float:
    """Share of full load at `offset_s` seconds into the run: a linear ramp, then flat."""
    return min(1.0, (offset_s + 1) / shape.ramp_s)


def _ticks(shape: SyntheticRun) -> list[Tick]:
    ticks = []
    for offset in range(shape.ramp_s + shape.steady_s):
        fraction = _load_fraction(shape, offset)
        ticks.append(
            Tick(
                at_s=shape.started_at_s + offset,
                stage="ramp" if offset < shape.ramp_s else "steady",
                users=round(shape.users * fraction),
                cpu_max_percent=30.0,
                workers=1,
                recent_rps=round(sum(endpoint.rate_rps for endpoint in shape.endpoints) * fraction),
            )
        )
    return ticks


def _samples(shape: SyntheticRun) -> list[SecondSample]:
    rng = np.random.default_rng(shape.seed)
    samples = []
    first = int(shape.started_at_s)
    for offset in range(shape.ramp_s + shape.steady_s):
        fraction = _load_fraction(shape, offset)
        for endpoint in sorted(shape.endpoints, key=lambda item: item.name):
            requests = max(1, round(endpoint.rate_rps * fraction))
            latencies_ms = rng.lognormal(np.log(endpoint.median_ms), endpoint.sigma, requests)
            histogram = new_histogram()
            for latency_ms in latencies_ms:
                histogram.record_value(clamp_us(float(latency_ms) * 1000.0))
            failures = int(rng.binomial(requests, endpoint.failure_ratio))
            errors = {endpoint.error_message: failures} if failures else {}
            samples.append(
                SecondSample(first + offset, endpoint.name, requests, failures, histogram, errors)
            )
    return samples


def _uncorrected_intervals(result: SwarmResult) -> list[IntervalHistogram]:
    """Derive uncorrected intervals: each latency shortened by a third of itself.

    Uncorrected latency counts from the actual send rather than the intended start,
    so it is never longer than the corrected latency of the same request.
    """
    intervals = []
    for sample in result.snapshot.samples:
        histogram = new_histogram()
        for item in sample.histogram.get_recorded_iterator():
            shortened_us = clamp_us(item.value_iterated_to * 2 / 3)
            histogram.record_value(shortened_us, item.count_at_value_iterated_to)
        tag = sample.endpoint + UNCORRECTED_SUFFIX
        intervals.append(IntervalHistogram(tag, float(sample.second), 1.0, histogram))
    return intervals
