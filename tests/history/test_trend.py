"""Trends of one metric and the most recent runs, read from the history store."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from perfgate.errors import ConfigError
from perfgate.history import (
    MetricSpec,
    RunFilter,
    index_bench,
    index_results,
    load_recent_runs,
    load_trend,
)
from perfgate.report.synthetic import SyntheticEndpoint, SyntheticRun, write_synthetic_run
from perfgate.results.store import read_run


def _write_runs(results: Path, count: int, *, invalid: set[int] | None = None) -> list[Path]:
    """Write `count` runs one minute apart, oldest first; `invalid` marks some invalid."""
    folders = []
    for index in range(count):
        shape = SyntheticRun(
            f"run-{index}",
            [SyntheticEndpoint("GET /db", 100, 2.0 + index)],
            started_at_s=1_800_000_000.0 + 60 * index,
            seed=index,
        )
        folder = write_synthetic_run(results, shape)
        if index in (invalid or set()):
            document = json.loads((folder / "run.json").read_text())
            document["verdict"] = "invalid"
            (folder / "run.json").write_text(json.dumps(document))
        folders.append(folder)
    return folders


@pytest.mark.parametrize(
    ("text", "name", "metric"),
    [
        pytest.param("GET /db p99", "GET /db", "p99", id="endpoint"),
        pytest.param("  total rps ", "total", "rps", id="total"),
        pytest.param("p99", "total", "p99", id="metric-alone"),
        pytest.param("test_encode[orjson] mean", "test_encode[orjson]", "mean", id="benchmark"),
    ],
)
def test_metric_spec_parse(text: str, name: str, metric: str) -> None:
    spec = MetricSpec.parse(text)

    assert spec.name == name
    assert spec.metric == metric


def test_empty_metric_spec_is_rejected() -> None:
    with pytest.raises(ConfigError, match="empty --metric"):
        MetricSpec.parse("  ")


def test_trend_is_oldest_first_and_matches_runs(tmp_path: Path) -> None:
    folders = _write_runs(tmp_path, 4)
    index_results(tmp_path / "history", tmp_path)

    trend = load_trend(tmp_path / "history", MetricSpec("GET /db", "p99"))

    assert trend["source_id"].tolist() == ["run-0", "run-1", "run-2", "run-3"]
    expected = [read_run(folder).endpoints[0].latency_ms.p99 for folder in folders]
    assert trend["value"].tolist() == expected
    assert trend["started_at"].is_monotonic_increasing


def test_trend_last_keeps_newest(tmp_path: Path) -> None:
    _write_runs(tmp_path, 4)
    index_results(tmp_path / "history", tmp_path)

    trend = load_trend(tmp_path / "history", MetricSpec("GET /db", "p50"), last=2)

    assert trend["source_id"].tolist() == ["run-2", "run-3"]


def test_trend_leaves_out_invalid_runs_unless_asked(tmp_path: Path) -> None:
    _write_runs(tmp_path, 3, invalid={1})
    index_results(tmp_path / "history", tmp_path)
    spec = MetricSpec("GET /db", "p99")

    default = load_trend(tmp_path / "history", spec)
    everything = load_trend(tmp_path / "history", spec, run_filter=RunFilter(include_invalid=True))

    assert default["source_id"].tolist() == ["run-0", "run-2"]
    assert everything["source_id"].tolist() == ["run-0", "run-1", "run-2"]


def test_trend_of_benchmark_by_short_name(tmp_path: Path) -> None:
    document = {
        "datetime": "2027-01-15T09:00:00+00:00",
        "commit_info": {"id": "abc"},
        "benchmarks": [
            {
                "name": "test_route[jump]",
                "fullname": "microbench/test_shard_routers.py::test_route[jump]",
                "stats": {
                    "min": 1e-6,
                    "max": 3e-6,
                    "mean": 1.5e-6,
                    "median": 1.4e-6,
                    "stddev": 1e-7,
                    "iqr": 1e-7,
                    "ops": 666_666.0,
                    "rounds": 100,
                },
            }
        ],
    }
    path = tmp_path / "bench.json"
    path.write_text(json.dumps(document))
    index_bench(tmp_path / "history", path)

    trend = load_trend(tmp_path / "history", MetricSpec.parse("test_route[jump] mean"))

    assert trend["value"].tolist() == pytest.approx([1.5])
    assert trend["unit"].tolist() == ["us"]


def test_unknown_name_lists_stored_names(tmp_path: Path) -> None:
    _write_runs(tmp_path, 1)
    index_results(tmp_path / "history", tmp_path)

    with pytest.raises(ConfigError, match=r"no stored metrics for 'GET /nope'; .*'GET /db'"):
        load_trend(tmp_path / "history", MetricSpec("GET /nope", "p99"))


def test_unknown_metric_lists_stored_metrics(tmp_path: Path) -> None:
    _write_runs(tmp_path, 1)
    index_results(tmp_path / "history", tmp_path)

    with pytest.raises(ConfigError, match=r"'GET /db' has no metric 'p95'; it has: .*'p99'"):
        load_trend(tmp_path / "history", MetricSpec("GET /db", "p95"))


def test_trend_last_below_one_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="invalid --last 0"):
        load_trend(tmp_path, MetricSpec("GET /db", "p99"), last=0)


def test_recent_runs_are_newest_first(tmp_path: Path) -> None:
    folders = _write_runs(tmp_path, 5, invalid={3})
    index_results(tmp_path / "history", tmp_path)

    recent = load_recent_runs(tmp_path / "history", 3)

    assert recent == [folders[4].resolve(), folders[2].resolve(), folders[1].resolve()]


def test_recent_runs_skip_deleted_folders(tmp_path: Path) -> None:
    folders = _write_runs(tmp_path, 3)
    index_results(tmp_path / "history", tmp_path)
    shutil.rmtree(folders[2])

    recent = load_recent_runs(tmp_path / "history", 2)

    assert recent == [folders[1].resolve(), folders[0].resolve()]


def test_recent_runs_under_a_folder(tmp_path: Path) -> None:
    results = tmp_path / "results"
    folders = _write_runs(results, 3)
    copied = results / "baselines" / folders[0].name
    shutil.copytree(folders[0], copied)
    index_results(tmp_path / "history", results)

    only_baselines = RunFilter(under=results / "baselines")
    recent = load_recent_runs(tmp_path / "history", 5, only_baselines)

    assert recent == [copied.resolve()]


def test_copied_run_counts_once(tmp_path: Path) -> None:
    results = tmp_path / "results"
    folders = _write_runs(results, 2)
    shutil.copytree(folders[0], results / "baselines" / folders[0].name)
    index_results(tmp_path / "history", results)

    trend = load_trend(tmp_path / "history", MetricSpec("GET /db", "p99"))
    recent = load_recent_runs(tmp_path / "history", 5)

    assert trend["source_id"].tolist() == ["run-0", "run-1"]
    assert [folder.name for folder in recent] == ["run-1", "run-0"]


def test_recent_runs_count_below_one_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="invalid run count 0"):
        load_recent_runs(tmp_path, 0)
