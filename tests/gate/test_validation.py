"""The gate's statistical validation: false alarms on real A/A noise, detection on quiet noise.

The real noise is tests/gate/fixtures/microbench-noise.json.gz: 14 runs of the
unchanged micro-benchmark suite on a 2-core VM shared with other test jobs, reduced
by microbench/validate_gate.py record. microbench-ab-noise.json.gz holds 8 couples
of runs from one `perfgate bench --ab HEAD` job on the same machine. Between runs,
the log of a benchmark's median had a standard deviation of 0.1 to 0.76, so only
slowdowns of several times rise above that noise. On it, these tests check that the
gate stays quiet. Detection of a
10% slowdown is checked on log-normal noise of 1% between runs, the quiet machine the
gate is built to judge.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from perfgate.errors import ResultsError
from perfgate.gate.validation import (
    NoiseRecord,
    TrialRate,
    detection_rate,
    false_alarm_rate,
    read_noise,
    record_noise,
    synthetic_noise,
    write_noise,
)
from perfgate.gate.verdicts import GateSettings

NOISE = Path(__file__).parent / "fixtures" / "microbench-noise.json.gz"
AB_NOISE = Path(__file__).parent / "fixtures" / "microbench-ab-noise.json.gz"


def test_gate_stays_quiet_on_real_noise() -> None:
    noise = read_noise(NOISE)

    alarms = false_alarm_rate(noise, GateSettings(), repeats=5, trials=200)

    assert alarms.rate <= 0.01


@pytest.mark.parametrize("method", ["welch", "paired"])
def test_gate_stays_quiet_on_real_ab_noise(method: str) -> None:
    noise = read_noise(AB_NOISE)

    alarms = false_alarm_rate(noise, GateSettings(method=method), 5, 60, interleaved=True)

    assert alarms.rate <= 0.01


def test_within_run_method_alarms_on_real_noise() -> None:
    # The reason the default judges repeats: within-run intervals miss the run-to-run
    # variation, and the gate then calls changes in A/A pairs.
    noise = read_noise(NOISE)

    alarms = false_alarm_rate(noise, GateSettings(method="hodges-lehmann"), repeats=1, trials=40)

    assert alarms.rate > 0.5


def test_gate_catches_ten_percent_on_quiet_noise() -> None:
    noise = synthetic_noise(benchmarks=30, runs=24, run_spread=0.01, batch_spread=0.02)
    settings = GateSettings()

    alarms = false_alarm_rate(noise, settings, repeats=10, trials=60)
    caught = detection_rate(noise, settings, repeats=10, slowdown=1.10, trials=60)

    assert alarms.rate <= 0.01
    assert caught.rate >= 0.95


def test_gate_misses_changes_inside_tolerance() -> None:
    noise = synthetic_noise(benchmarks=10, runs=24, run_spread=0.01, batch_spread=0.02)

    caught = detection_rate(noise, GateSettings(), repeats=10, slowdown=1.03, trials=30)

    assert caught.rate == 0.0


def test_noise_record_round_trips(tmp_path: Path) -> None:
    noise = synthetic_noise(benchmarks=3, runs=4, run_spread=0.05, batch_spread=0.02)
    path = tmp_path / "noise.json.gz"

    write_noise(noise, path)
    again = read_noise(path)

    assert again.runs == 4
    assert sorted(again.benchmarks) == sorted(noise.benchmarks)
    first = noise.benchmarks["test_synthetic[0]"][0]
    assert list(again.benchmarks["test_synthetic[0]"][0]) == pytest.approx(list(first), rel=1e-3)


def test_noise_is_recorded_from_benchmark_files(write_benchmarks: Callable[..., Path]) -> None:
    paths = [write_benchmarks({"test_a": [1e-3 * (1 + run / 10)] * 40}) for run in range(3)]

    noise = record_noise(paths, {"machine": "test"})

    assert noise.runs == 3
    medians = [float(values[0]) for values in noise.benchmarks["test_a"]]
    minimums = [float(values[0]) for values in noise.minimums["test_a"]]
    assert medians == pytest.approx([1 / 1.1, 1.0, 1.2 / 1.1])
    assert minimums == pytest.approx(medians)


def test_noise_needs_two_runs(tmp_path: Path) -> None:
    with pytest.raises(ResultsError, match="needs at least 2 runs, got 1"):
        record_noise([tmp_path / "one.json"], {})


def test_minimum_replay_needs_recorded_minimums() -> None:
    noise = synthetic_noise(benchmarks=2, runs=4, run_spread=0.01, batch_spread=0.02)
    without_minimums = NoiseRecord(noise.runs, noise.benchmarks, noise.description)

    with pytest.raises(ResultsError, match="has no batch minimums"):
        false_alarm_rate(without_minimums, GateSettings(), repeats=2, trials=1)


def test_damaged_noise_file_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "noise.json.gz"
    path.write_bytes(b"not gzip")

    with pytest.raises(ResultsError, match="is damaged"):
        read_noise(path)


def test_too_few_runs_for_repeats_are_rejected() -> None:
    noise = synthetic_noise(benchmarks=2, runs=4, run_spread=0.01, batch_spread=0.02)

    with pytest.raises(ResultsError, match="3 repeats per side need 6 recorded runs"):
        false_alarm_rate(noise, GateSettings(), repeats=3, trials=1)


@pytest.mark.parametrize(
    ("events", "trials", "low", "high"),
    [
        pytest.param(0, 400, 0.0, 0.0095, id="none"),
        pytest.param(200, 400, 0.451, 0.549, id="half"),
    ],
)
def test_wilson_interval(events: int, trials: int, low: float, high: float) -> None:
    interval = TrialRate(events, trials).wilson_interval()

    assert interval[0] == pytest.approx(low, abs=0.001)
    assert interval[1] == pytest.approx(high, abs=0.001)
