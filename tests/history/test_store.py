"""The history store: indexing runs and benchmark files, and reading the rows back."""

from __future__ import annotations

import json
import os
from pathlib import Path

import msgspec
import pandas as pd
import pytest

from perfgate.errors import ResultsError
from perfgate.history import index_bench, index_results, index_run, read_store
from perfgate.history.store import COLUMNS
from perfgate.report.synthetic import SyntheticEndpoint, SyntheticRun, write_synthetic_run
from perfgate.results.store import read_run

ENDPOINTS = [SyntheticEndpoint("GET /db", 100, 3.0), SyntheticEndpoint("GET /json", 50, 1.0)]


def _run(results: Path, run_id: str, offset_s: float = 0.0) -> Path:
    shape = SyntheticRun(run_id, ENDPOINTS, started_at_s=1_800_000_000.0 + offset_s)
    return write_synthetic_run(results, shape)


def _bench_file(path: Path, mean_s: float = 2e-6) -> Path:
    """Write a minimal file in pytest-benchmark's --benchmark-json format."""
    stats = {
        "min": mean_s * 0.9,
        "max": mean_s * 3,
        "mean": mean_s,
        "median": mean_s,
        "stddev": mean_s / 10,
        "iqr": mean_s / 20,
        "ops": 1 / mean_s,
        "rounds": 1000,
        "data": [mean_s] * 3,
    }
    document = {
        "machine_info": {"python_version": "3.11.7"},
        "commit_info": {"id": "abc123", "dirty": False},
        "benchmarks": [
            {
                "group": None,
                "name": "test_encode[orjson]",
                "fullname": "microbench/test_serialization.py::test_encode[orjson]",
                "params": {"codec": "orjson"},
                "stats": stats,
            }
        ],
        "datetime": "2027-01-15T09:00:00.000000+00:00",
        "version": "5.1.0",
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document))
    return path


def test_run_round_trip_keeps_values(tmp_path: Path) -> None:
    run_dir = _run(tmp_path / "results", "run-a")
    record = read_run(run_dir)

    index_run(tmp_path / "store", run_dir)
    rows = read_store(tmp_path / "store")

    assert list(rows.columns) == list(COLUMNS)
    db_p99 = rows[(rows["name"] == "GET /db") & (rows["metric"] == "p99")]
    assert len(db_p99) == 1
    assert db_p99["value"].iloc[0] == record.endpoints[0].latency_ms.p99
    assert db_p99["unit"].iloc[0] == "ms"
    assert db_p99["source_id"].iloc[0] == "run-a"
    assert db_p99["verdict"].iloc[0] == "pass"
    assert db_p99["started_at"].iloc[0] == pd.Timestamp("2027-01-15T08:00:00Z")
    assert db_p99["path"].iloc[0] == str(run_dir.resolve())
    total_rps = rows[(rows["name"] == "total") & (rows["metric"] == "rps")]
    assert total_rps["value"].iloc[0] == record.total.rps
    assert total_rps["unit"].iloc[0] == "1/s"


def test_reindexing_a_run_replaces_its_rows(tmp_path: Path) -> None:
    run_dir = _run(tmp_path / "results", "run-a")

    index_run(tmp_path / "store", run_dir)
    index_run(tmp_path / "store", run_dir)
    rows = read_store(tmp_path / "store")

    assert len(rows[(rows["name"] == "GET /db") & (rows["metric"] == "p99")]) == 1


def test_uncorrected_latency_is_stored(tmp_path: Path) -> None:
    run_dir = _run(tmp_path / "results", "open-run")
    document = json.loads((run_dir / "run.json").read_text())
    for entry in [*document["endpoints"], document["total"]]:
        entry["latency_uncorrected_ms"] = {**entry["latency_ms"], "p99": 1.5}
    (run_dir / "run.json").write_text(json.dumps(document))

    index_run(tmp_path / "store", run_dir)
    rows = read_store(tmp_path / "store")

    uncorrected = rows[(rows["name"] == "GET /db") & (rows["metric"] == "p99_uncorrected")]
    assert uncorrected["value"].tolist() == [1.5]


def test_bench_round_trip_in_microseconds(tmp_path: Path) -> None:
    bench = _bench_file(tmp_path / "results" / "bench" / "0001_abc.json", mean_s=2e-6)

    index_bench(tmp_path / "store", bench)
    rows = read_store(tmp_path / "store")

    mean = rows[rows["metric"] == "mean"]
    assert mean["value"].iloc[0] == pytest.approx(2.0)
    assert mean["unit"].iloc[0] == "us"
    assert mean["name"].iloc[0] == "microbench/test_serialization.py::test_encode[orjson]"
    assert mean["git_commit"].iloc[0] == "abc123"
    assert mean["kind"].iloc[0] == "bench"
    ops = rows[rows["metric"] == "ops"]
    assert ops["value"].iloc[0] == pytest.approx(500_000.0)


def test_index_results_skips_unchanged_sources(tmp_path: Path) -> None:
    results = tmp_path / "results"
    first = _run(results, "run-a")
    _run(results, "run-b", offset_s=100)
    _bench_file(results / "bench" / "0001_abc.json")
    store = results / "history"

    initial = index_results(store, results)
    again = index_results(store, results)
    later = os.stat(first / "run.json").st_mtime + 10
    os.utime(first / "run.json", (later, later))
    touched = index_results(store, results)

    assert (initial.indexed, initial.unchanged) == (3, 0)
    assert (again.indexed, again.unchanged) == (0, 3)
    assert (touched.indexed, touched.unchanged) == (1, 2)


def test_index_results_rejects_corrupt_run(tmp_path: Path) -> None:
    results = tmp_path / "results"
    _run(results, "run-a")
    broken = _run(results, "run-b", offset_s=100)
    (broken / "run.json").write_bytes((broken / "run.json").read_bytes()[:200])

    summary = index_results(results / "history", results)
    rows = read_store(results / "history")

    assert summary.indexed == 1
    assert [path for path, _ in summary.rejected] == [broken / "run.json"]
    assert "truncated or not JSON" in summary.rejected[0][1]
    assert set(rows["source_id"]) == {"run-a"}


def test_empty_store_reads_as_empty_frame(tmp_path: Path) -> None:
    rows = read_store(tmp_path / "nothing-here")

    assert rows.empty
    assert list(rows.columns) == list(COLUMNS)


def test_unknown_store_format_is_rejected(tmp_path: Path) -> None:
    index_run(tmp_path / "store", _run(tmp_path / "results", "run-a"))
    (path,) = (tmp_path / "store" / "runs").glob("*.parquet")
    frame = pd.read_parquet(path)
    frame["format"] = "perfgate.history/9"
    frame.to_parquet(path, index=False)

    with pytest.raises(ResultsError, match=r"has format \['perfgate.history/9'\]"):
        read_store(tmp_path / "store")


def test_corrupt_store_file_is_rejected(tmp_path: Path) -> None:
    runs = tmp_path / "store" / "runs"
    runs.mkdir(parents=True)
    (runs / "broken.parquet").write_bytes(b"PAR1 not really")

    with pytest.raises(ResultsError, match=r"cannot be read .*; delete it and index again"):
        read_store(tmp_path / "store")


def test_bench_file_of_other_format_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "other.json"
    path.write_bytes(msgspec.json.encode({"benchmarks": "none"}))

    with pytest.raises(ResultsError, match="is not pytest-benchmark JSON"):
        index_bench(tmp_path / "store", path)
