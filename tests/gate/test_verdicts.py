"""Row-by-row verdicts of the gate and the exit code they lead to."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pytest

from perfgate.errors import ConfigError, ResultsError
from perfgate.gate.samples import ResultSet, Series, SourceKind
from perfgate.gate.verdicts import GateSettings, Verdict, judge

MACHINE = {"machine": "x86_64", "cpu": "Test CPU"}


def _series(
    name: str,
    scale: float,
    *,
    seed: int,
    repeats: int = 3,
    count: int = 100,
    higher_is_better: bool = False,
    parameters: Mapping[str, str] | None = None,
) -> Series:
    rng = np.random.default_rng(seed)
    samples = tuple(scale * rng.lognormal(0.0, 0.02, count) for _ in range(repeats))
    return Series(name, name, "s", higher_is_better, samples, parameters or {}, {})


def _side(
    series: Sequence[Series],
    *,
    machine: Mapping[str, str] = MACHINE,
    invalid: tuple[str, ...] = (),
    kind: SourceKind = SourceKind.PYTEST_BENCHMARK,
) -> ResultSet:
    return ResultSet(kind, ("test",), machine, {one.name: one for one in series}, invalid)


def _suite(scales: Mapping[str, float], seed: int, **options: object) -> ResultSet:
    return _side(
        [
            _series(name, scale, seed=seed * 100 + index, **options)  # type: ignore[arg-type]
            for index, (name, scale) in enumerate(sorted(scales.items()))
        ]
    )


NAMES = [f"test_{index}" for index in range(8)]


@pytest.mark.parametrize("method", ["welch", "paired", "bootstrap", "hodges-lehmann"])
def test_slowdown_of_one_benchmark_is_a_regression(method: str) -> None:
    baseline = _suite(dict.fromkeys(NAMES, 1.0), seed=1)
    candidate = _suite({**dict.fromkeys(NAMES, 1.0), "test_3": 1.3}, seed=2)

    report = judge(baseline, candidate, GateSettings(method=method))

    verdicts = {row.name: row.verdict for row in report.rows}
    assert verdicts["test_3"] is Verdict.REGRESSION
    assert [name for name, verdict in verdicts.items() if verdict is not Verdict.NO_CHANGE] == [
        "test_3"
    ]
    assert report.exit_code == 1
    row = next(row for row in report.rows if row.name == "test_3")
    assert row.ratio == pytest.approx(1.3, rel=0.03)
    assert row.interval is not None
    assert row.interval[0] > 1.05


@pytest.mark.parametrize("method", ["welch", "paired", "bootstrap", "hodges-lehmann"])
def test_equal_sides_pass(method: str) -> None:
    report = judge(
        _suite(dict.fromkeys(NAMES, 1.0), seed=3),
        _suite(dict.fromkeys(NAMES, 1.0), seed=4),
        GateSettings(method=method),
    )

    assert report.count(Verdict.NO_CHANGE) == len(NAMES)
    assert report.exit_code == 0


@pytest.mark.parametrize(
    ("kind", "statistic"),
    [
        pytest.param(SourceKind.PYTEST_BENCHMARK, "min", id="benchmarks"),
        pytest.param(SourceKind.PERFGATE_RUN, "median", id="runs"),
    ],
)
def test_auto_statistic_follows_the_input_kind(kind: SourceKind, statistic: str) -> None:
    estimator = GateSettings().estimator(kind)

    assert getattr(estimator, "statistic", None) == statistic


def test_speedup_is_an_improvement() -> None:
    report = judge(
        _suite({"test_a": 1.0, "test_b": 1.0}, seed=5),
        _suite({"test_a": 0.7, "test_b": 1.0}, seed=6),
    )

    verdicts = {row.name: row.verdict for row in report.rows}
    assert verdicts == {"test_a": Verdict.IMPROVEMENT, "test_b": Verdict.NO_CHANGE}
    assert report.exit_code == 0


def test_change_inside_tolerance_is_no_change() -> None:
    report = judge(
        _suite({"test_a": 1.0}, seed=7),
        _suite({"test_a": 1.03}, seed=8),
        GateSettings(tolerance=0.05),
    )

    assert report.rows[0].verdict is Verdict.NO_CHANGE


def test_lower_throughput_is_a_regression() -> None:
    baseline = _side([_series("GET /db rps", 1000.0, seed=9, higher_is_better=True)])
    candidate = _side([_series("GET /db rps", 700.0, seed=10, higher_is_better=True)])

    report = judge(baseline, candidate)

    assert report.rows[0].verdict is Verdict.REGRESSION


def test_higher_throughput_is_an_improvement() -> None:
    baseline = _side([_series("GET /db rps", 1000.0, seed=11, higher_is_better=True)])
    candidate = _side([_series("GET /db rps", 1300.0, seed=12, higher_is_better=True)])

    report = judge(baseline, candidate)

    assert report.rows[0].verdict is Verdict.IMPROVEMENT


def test_single_repeat_is_not_comparable_with_welch() -> None:
    report = judge(
        _suite({"test_a": 1.0}, seed=13, repeats=1),
        _suite({"test_a": 2.0}, seed=14, repeats=1),
    )

    row = report.rows[0]
    assert row.verdict is Verdict.NOT_COMPARABLE
    assert "the welch method needs 2 per side" in row.reason
    assert "perfgate bench --repeat 5" in row.reason
    assert report.exit_code == 2


def test_paired_needs_equal_repeat_counts() -> None:
    report = judge(
        _suite({"test_a": 1.0}, seed=40, repeats=3),
        _suite({"test_a": 1.0}, seed=41, repeats=2),
        GateSettings(method="paired"),
    )

    assert report.rows[0].verdict is Verdict.NOT_COMPARABLE
    assert "the paired method needs the same number on both sides" in report.rows[0].reason


def test_zero_median_repeat_is_not_comparable_with_welch() -> None:
    zero = Series(
        "GET /db rps", "GET /db rps", "rps", True, (np.zeros(10), np.full(10, 5.0)), {}, {}
    )
    other = _series("GET /db rps", 5.0, seed=42, higher_is_better=True)

    report = judge(_side([zero]), _side([other]))

    assert report.rows[0].verdict is Verdict.NOT_COMPARABLE
    assert "a baseline repeat has a median <= 0" in report.rows[0].reason


def test_single_repeat_is_judged_by_bootstrap() -> None:
    report = judge(
        _suite({"test_a": 1.0}, seed=15, repeats=1),
        _suite({"test_a": 2.0}, seed=16, repeats=1),
        GateSettings(method="bootstrap"),
    )

    assert report.rows[0].verdict is Verdict.REGRESSION


@pytest.mark.parametrize("count", [1, 4], ids=["single-sample", "four-samples"])
def test_too_few_samples_are_not_comparable(count: int) -> None:
    report = judge(
        _suite({"test_a": 1.0}, seed=17, repeats=1, count=count),
        _suite({"test_a": 1.0}, seed=18, repeats=1, count=count),
        GateSettings(method="bootstrap"),
    )

    row = report.rows[0]
    assert row.verdict is Verdict.NOT_COMPARABLE
    assert f"the baseline has {count} sample" in row.reason
    assert "--benchmark-min-rounds=5" in row.reason


def test_different_machine_is_not_comparable() -> None:
    baseline = _suite({"test_a": 1.0}, seed=19)
    candidate = _side(
        list(_suite({"test_a": 1.0}, seed=20).series.values()),
        machine={"machine": "arm64", "cpu": "Test CPU"},
    )

    report = judge(baseline, candidate)

    assert report.rows[0].verdict is Verdict.NOT_COMPARABLE
    assert "different machine: machine 'x86_64' vs 'arm64'" in report.rows[0].reason
    assert report.exit_code == 2


def test_mismatch_can_be_allowed() -> None:
    baseline = _suite({"test_a": 1.0}, seed=21)
    candidate = _side(list(_suite({"test_a": 1.0}, seed=22).series.values()), machine={})

    report = judge(baseline, candidate, GateSettings(allow_mismatch=True))

    assert report.rows[0].verdict is Verdict.NO_CHANGE


def test_different_parameters_are_not_comparable() -> None:
    baseline = _side([_series("test_a", 1.0, seed=23, parameters={"timer": "perf_counter"})])
    candidate = _side([_series("test_a", 1.0, seed=24, parameters={"timer": "process_time"})])

    report = judge(baseline, candidate)

    assert report.rows[0].verdict is Verdict.NOT_COMPARABLE
    assert "different parameters: timer 'perf_counter' vs 'process_time'" in report.rows[0].reason


def test_invalid_run_never_passes() -> None:
    baseline = _suite({"test_a": 1.0}, seed=25)
    candidate = _side(
        list(_suite({"test_a": 1.0}, seed=26).series.values()),
        invalid=("run r1 is invalid: a worker was lost",),
    )

    report = judge(baseline, candidate)

    assert report.rows[0].verdict is Verdict.NOT_COMPARABLE
    assert report.rows[0].reason == "run r1 is invalid: a worker was lost"
    assert report.invalid
    assert report.exit_code == 3


def test_regression_outranks_invalid_and_incomparable_rows() -> None:
    baseline = _side([_series("test_a", 1.0, seed=27), _series("test_b", 1.0, seed=28, repeats=1)])
    candidate = _side([_series("test_a", 2.0, seed=29), _series("test_b", 1.0, seed=30, repeats=1)])

    report = judge(baseline, candidate)

    assert report.count(Verdict.REGRESSION) == 1
    assert report.count(Verdict.NOT_COMPARABLE) == 1
    assert report.exit_code == 1


def test_benchmarks_on_one_side_are_listed() -> None:
    report = judge(
        _suite({"test_a": 1.0, "test_old": 1.0}, seed=31),
        _suite({"test_a": 1.0, "test_new": 1.0}, seed=32),
    )

    assert [row.name for row in report.rows] == ["test_a"]
    assert report.only_baseline == ("test_old",)
    assert report.only_candidate == ("test_new",)


def test_no_benchmark_in_common_is_rejected() -> None:
    with pytest.raises(ResultsError, match="no benchmark in common"):
        judge(_suite({"test_a": 1.0}, seed=33), _suite({"test_b": 1.0}, seed=34))


def test_sides_of_different_kinds_are_rejected() -> None:
    baseline = _suite({"test_a": 1.0}, seed=35)
    candidate = _side(list(baseline.series.values()), kind=SourceKind.PERFGATE_RUN)

    with pytest.raises(ResultsError, match="compare like with like"):
        judge(baseline, candidate)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        pytest.param({"tolerance": 1.5}, "invalid tolerance 1.5", id="tolerance"),
        pytest.param({"false_discovery_rate": 0.0}, "invalid false discovery rate 0.0", id="rate"),
        pytest.param({"method": "t-test"}, "unknown gate method 't-test'", id="method"),
        pytest.param({"min_samples": 1}, "invalid minimum sample count 1", id="min-samples"),
        pytest.param({"statistic": "mean"}, "unknown repeat statistic 'mean'", id="statistic"),
    ],
)
def test_invalid_settings_are_rejected(options: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        GateSettings(**options)  # type: ignore[arg-type]
