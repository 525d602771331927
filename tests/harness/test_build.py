"""run.json from a snapshot: window cut, generator health, verdict."""

from __future__ import annotations

from pathlib import Path

import pytest

from perfgate.histograms.histogram import new_histogram
from perfgate.profiles.model import Profile, Stage
from perfgate.results.build import RunInputs, build_record
from perfgate.results.schema import TargetInfo
from perfgate.results.timeseries import timeseries_rows
from perfgate.swarm.collector import CollectorSnapshot, SecondSample, WorkerAccount
from perfgate.swarm.master import StageSpan, SwarmResult, Tick, Timeline

START_S = 1_000.0


def _profile(thresholds: tuple[str, ...] = ()) -> Profile:
    return Profile(
        name="unit",
        path=Path("unit.toml"),
        description="",
        locustfile=None,
        stages=(Stage("ramp", 2.0, 4, 4.0, False), Stage("steady", 6.0, 4, 4.0, True)),
        warmup_s=1.0,
        thresholds=thresholds,
    )


def _timeline(window_start_s: float | None = START_S + 3.0, cpu: float = 40.0) -> Timeline:
    ticks = tuple(Tick(START_S + offset, "steady", 4, cpu, 2) for offset in range(9))
    return Timeline(
        started_at_s=START_S,
        ended_at_s=START_S + 8.5,
        stages=(
            StageSpan("ramp", START_S, START_S + 2.0, 4, False),
            StageSpan("steady", START_S + 2.0, START_S + 8.0, 4, True),
        ),
        window_start_s=window_start_s,
        window_end_s=START_S + 8.0,
        ticks=ticks,
    )


def _sample(
    second: int, endpoint: str, requests: int, latency_us: int, failures: int = 0
) -> SecondSample:
    histogram = new_histogram()
    histogram.record_value(latency_us, requests)
    errors = {"HTTPError: 500": failures} if failures else {}
    return SecondSample(second, endpoint, requests, failures, histogram, errors)


def _result(samples: list[SecondSample], lost: tuple[str, ...] = ()) -> SwarmResult:
    total = sum(sample.requests for sample in samples)
    account = WorkerAccount(
        "w1", last_sequence=5, finished=True, recorded_total=total, received_total=total
    )
    return SwarmResult(
        snapshot=CollectorSnapshot(tuple(samples), (account,), 0),
        joined_workers=("w1", *lost),
        lost_workers=lost,
        locust_requests=total,
    )


def _inputs(thresholds: tuple[str, ...] = ()) -> RunInputs:
    return RunInputs(
        "run-1", _profile(thresholds), TargetInfo(url="http://x", started_by_perfgate=False), {}
    )


def _steady_samples() -> list[SecondSample]:
    samples = []
    for second in range(1_000, 1_009):
        samples.append(_sample(second, "GET /db", 100, 2_000))
        samples.append(_sample(second, "GET /json", 50, 500))
    return samples


def test_window_excludes_ramp_and_stop_seconds() -> None:
    record = build_record(_inputs(), _timeline(), _result(_steady_samples()))

    assert record.window.start_s == 3.0
    assert record.window.end_s == 8.0
    assert record.window.steady
    assert record.total.requests == 5 * 150
    assert record.total.rps == 150.0
    assert [endpoint.name for endpoint in record.endpoints] == ["GET /db", "GET /json"]
    assert record.total.requests == sum(endpoint.requests for endpoint in record.endpoints)
    assert record.verdict == "pass"


def test_latency_summary_comes_from_window_samples() -> None:
    samples = _steady_samples()
    samples.append(_sample(1_001, "GET /db", 1, 9_000_000))  # a ramp outlier outside the window
    record = build_record(_inputs(), _timeline(), _result(samples))
    db = record.endpoints[0]
    assert db.latency_ms.max == pytest.approx(2.0, rel=1e-3)
    assert db.latency_ms.min <= db.latency_ms.p50 <= db.latency_ms.p99 <= db.latency_ms.max


def test_failed_threshold_fails_the_run() -> None:
    record = build_record(_inputs(("p99 < 1ms",)), _timeline(), _result(_steady_samples()))
    assert record.verdict == "fail"
    assert record.thresholds[0].value == pytest.approx(2.0, rel=1e-3)
    assert not record.thresholds[0].passed


def test_failures_and_errors_are_counted() -> None:
    samples = [*_steady_samples(), _sample(1_004, "GET /db", 10, 1_000, failures=10)]
    record = build_record(_inputs(("fail_ratio < 1%",)), _timeline(), _result(samples))
    db = record.endpoints[0]
    assert db.failures == 10
    assert db.errors == {"HTTPError: 500": 10}
    assert record.verdict == "fail"


def test_never_steady_is_invalid_and_passes_no_threshold() -> None:
    record = build_record(
        _inputs(("fail_ratio < 1%",)), _timeline(window_start_s=None), _result(_steady_samples())
    )
    assert record.verdict == "invalid"
    assert record.invalid_reasons[0].startswith("steady state never reached")
    assert not record.thresholds[0].passed


def test_lost_worker_is_invalid() -> None:
    record = build_record(_inputs(), _timeline(), _result(_steady_samples(), lost=("w2",)))
    assert record.verdict == "invalid"
    assert record.generator.workers_lost == 1
    assert "1 worker(s) lost: no final report from w2" in record.invalid_reasons


def test_saturated_generator_is_invalid() -> None:
    record = build_record(_inputs(), _timeline(cpu=97.0), _result(_steady_samples()))
    assert record.verdict == "invalid"
    assert record.generator.saturated
    assert any(reason.startswith("load generator saturated") for reason in record.invalid_reasons)


def test_timeseries_has_each_seconds_own_percentiles() -> None:
    samples = [_sample(1_003, "GET /db", 100, 1_000), _sample(1_004, "GET /db", 100, 50_000)]
    rows = timeseries_rows(_timeline(), _result(samples))
    db_rows = {row["second"]: row for row in rows if row["endpoint"] == "GET /db"}

    assert db_rows[1_003]["p99_ms"] == pytest.approx(1.0, rel=1e-3)
    assert db_rows[1_004]["p99_ms"] == pytest.approx(50.0, rel=1e-3)
    assert db_rows[1_005]["requests"] == 0
    assert db_rows[1_001]["phase"] == "ramp"
    assert db_rows[1_003]["phase"] == "window"
    assert db_rows[1_008]["phase"] == "stop"
    assert sum(int(row["requests"]) for row in rows if row["endpoint"] == "total") == 200  # type: ignore[call-overload]
