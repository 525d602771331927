"""Per-endpoint changes between baseline and candidate runs, and how sides are found."""

from __future__ import annotations

from pathlib import Path

import msgspec
import pytest

from perfgate.compare import (
    Comparison,
    Direction,
    MetricChange,
    compare_runs,
    find_run_dirs,
    load_side,
)
from perfgate.compare.table import assessment, comparison_table, format_interval
from perfgate.errors import ConfigError
from perfgate.report.synthetic import (
    SyntheticEndpoint,
    SyntheticRun,
    synthetic_record,
    write_synthetic_run,
)
from perfgate.results.schema import RunRecord


def _record(run_id: str, db_median_ms: float, seed: int) -> RunRecord:
    endpoints = [
        SyntheticEndpoint("GET /db", 200, db_median_ms),
        SyntheticEndpoint("GET /json", 100, 1.0),
    ]
    return synthetic_record(SyntheticRun(run_id, endpoints, seed=seed))


def _change(comparison: Comparison, endpoint: str, metric: str) -> MetricChange:
    (found,) = [c for c in comparison.changes if c.endpoint == endpoint and c.metric == metric]
    return found


def test_slower_candidate_is_worse_with_interval_above_zero() -> None:
    baseline = [_record(f"a{seed}", 3.0, seed) for seed in range(4)]
    candidate = [_record(f"b{seed}", 4.0, 100 + seed) for seed in range(4)]

    comparison = compare_runs(baseline, candidate)
    db_p50 = _change(comparison, "GET /db", "p50")

    assert db_p50.change == pytest.approx(1 / 3, abs=0.05)
    assert db_p50.interval is not None
    assert db_p50.interval[0] > 0.1
    assert db_p50.direction is Direction.HIGHER
    assert assessment(db_p50) == "worse"
    assert len(db_p50.baseline) == 4
    assert len(db_p50.candidate) == 4


def test_unchanged_endpoint_is_unclear() -> None:
    baseline = [_record(f"a{seed}", 3.0, seed) for seed in range(4)]
    candidate = [_record(f"b{seed}", 3.0, 100 + seed) for seed in range(4)]

    json_p50 = _change(compare_runs(baseline, candidate), "GET /json", "p50")

    assert json_p50.interval is not None
    assert json_p50.interval[0] < 0.0 < json_p50.interval[1]
    assert assessment(json_p50) == "unclear"


def test_single_runs_have_no_interval() -> None:
    comparison = compare_runs([_record("a", 3.0, 1)], [_record("b", 4.0, 2)])
    db_p99 = _change(comparison, "GET /db", "p99")

    assert db_p99.interval is None
    assert db_p99.change is not None
    assert db_p99.direction is Direction.NO_INTERVAL
    assert format_interval(db_p99) == "needs 2+ repeats a side"


def test_endpoint_on_one_side_has_no_change() -> None:
    baseline = _record("a", 3.0, 1)
    extra = SyntheticRun("b", [SyntheticEndpoint("GET /new", 50, 2.0)], seed=2)
    comparison = compare_runs([baseline], [synthetic_record(extra)])

    new = _change(comparison, "GET /new", "p99")

    assert new.baseline == ()
    assert new.change is None
    assert [c.endpoint for c in comparison.changes][-1] == "total"


def test_fail_ratio_change_is_absolute() -> None:
    failing = SyntheticEndpoint("GET /db", 200, 3.0, failure_ratio=0.1)
    base = [_record(f"a{seed}", 3.0, seed) for seed in range(3)]
    cand = [synthetic_record(SyntheticRun(f"b{seed}", [failing], seed=seed)) for seed in range(3)]

    ratio = _change(compare_runs(base, cand, metrics=["fail_ratio"]), "GET /db", "fail_ratio")

    assert not ratio.relative
    assert ratio.change == pytest.approx(0.1, abs=0.02)
    assert assessment(ratio) == "worse"


def test_invalid_runs_are_listed() -> None:
    invalid = msgspec.structs.replace(_record("bad", 3.0, 1), verdict="invalid")

    comparison = compare_runs([invalid], [_record("good", 3.0, 2)])

    assert comparison.invalid_runs == ("bad",)


def test_unknown_metric_is_rejected() -> None:
    with pytest.raises(ConfigError, match="unknown metric 'p95'; choose from rps"):
        compare_runs([_record("a", 3.0, 1)], [_record("b", 3.0, 2)], metrics=["p95"])


def test_empty_side_is_rejected() -> None:
    with pytest.raises(ConfigError, match="at least one run on each side"):
        compare_runs([], [_record("b", 3.0, 2)])


def test_table_has_a_row_per_endpoint_and_metric() -> None:
    comparison = compare_runs([_record("a", 3.0, 1)], [_record("b", 3.0, 2)], metrics=["p99"])

    table = comparison_table(comparison)

    assert table.row_count == 3  # GET /db, GET /json, total
    assert "baseline a vs candidate b" in str(table.title)


def test_side_folder_or_repeats(tmp_path: Path) -> None:
    endpoints = [SyntheticEndpoint("GET /db", 50, 3.0)]
    for seed in range(3):
        write_synthetic_run(tmp_path / "repeats", SyntheticRun(f"r{seed}", endpoints, seed=seed))

    single = find_run_dirs(tmp_path / "repeats" / "r1")
    from_file = find_run_dirs(tmp_path / "repeats" / "r1" / "run.json")
    repeats = load_side(tmp_path / "repeats")

    assert single == [tmp_path / "repeats" / "r1"]
    assert from_file == single
    assert [record.run_id for record in repeats] == ["r0", "r1", "r2"]


def test_side_without_runs_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found; pass a folder such as results/<run-id>"):
        find_run_dirs(tmp_path / "missing")
    with pytest.raises(ConfigError, match=r"no run\.json in .* or its subfolders"):
        find_run_dirs(tmp_path)
