"""Reading pytest-benchmark JSON files and perfgate run folders into result sets."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from perfgate.errors import ResultsError
from perfgate.gate.loaders import load_side, read_pytest_benchmark
from perfgate.gate.samples import SourceKind

BenchmarkWriter = Callable[..., Path]
RunWriter = Callable[..., Path]
SampleMaker = Callable[..., list[float]]


def test_pytest_benchmark_file_becomes_series(
    make_samples: SampleMaker, write_benchmarks: BenchmarkWriter
) -> None:
    samples = make_samples(1, count=30)
    path = write_benchmarks(
        {"test_encode[json]": samples},
        params={"test_encode[json]": {"codec": "json"}},
        extra_info={"test_encode[json]": {"moved_fraction": 0.5}},
    )

    results = read_pytest_benchmark(path)

    series = results.series["microbench/test_example.py::test_encode[json]"]
    assert results.kind is SourceKind.PYTEST_BENCHMARK
    assert series.short_name == "test_encode[json]"
    assert series.unit == "s"
    assert not series.higher_is_better
    assert series.sample_count == 30
    assert list(series.repeats[0]) == samples
    assert series.parameters["param codec"] == "'json'"
    assert series.parameters["timer"] == "perf_counter"
    assert series.extra_info == {"moved_fraction": 0.5}
    assert results.machine == {
        "machine": "x86_64",
        "cpu": "Test CPU",
        "cpu_count": "2",
        "python": "3.11",
        "implementation": "CPython",
    }


@pytest.mark.parametrize(
    ("content", "message"),
    [
        pytest.param('{"benchmarks": [', "truncated or not JSON", id="truncated"),
        pytest.param("not json at all", "truncated or not JSON", id="not-json"),
        pytest.param('{"schema": "other"}', "not a pytest-benchmark JSON file", id="other-json"),
        pytest.param("[1, 2]", "not a pytest-benchmark JSON file", id="json-list"),
    ],
)
def test_unreadable_file_is_rejected(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(content, encoding="utf-8")

    with pytest.raises(ResultsError, match=message):
        read_pytest_benchmark(path)


def test_missing_file_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(ResultsError, match="not found; check the path"):
        read_pytest_benchmark(tmp_path / "absent.json")


@pytest.mark.parametrize(
    "version",
    [pytest.param("2.5.0", id="release-2"), pytest.param("1.0", id="release-1")],
)
def test_old_pytest_benchmark_release_is_rejected(
    make_samples: SampleMaker, write_benchmarks: BenchmarkWriter, version: str
) -> None:
    path = write_benchmarks({"test_a": make_samples(1)}, version=version)

    with pytest.raises(ResultsError, match=rf"pytest-benchmark {version}, older than 3.0"):
        read_pytest_benchmark(path)


@pytest.mark.parametrize(
    "version",
    [pytest.param(None, id="missing"), pytest.param("dev", id="not-a-release")],
)
def test_unknown_version_is_rejected(
    make_samples: SampleMaker, write_benchmarks: BenchmarkWriter, version: object
) -> None:
    path = write_benchmarks({"test_a": make_samples(1)}, version=version)

    with pytest.raises(ResultsError, match="not a release number"):
        read_pytest_benchmark(path)


@pytest.mark.parametrize(
    "version",
    [pytest.param("3.4.1", id="release-3"), pytest.param("4.0.0", id="release-4")],
)
def test_later_releases_are_read(
    make_samples: SampleMaker, write_benchmarks: BenchmarkWriter, version: str
) -> None:
    path = write_benchmarks({"test_a": make_samples(1)}, version=version)

    assert len(read_pytest_benchmark(path).series) == 1


def test_file_without_raw_timings_is_rejected(
    write_benchmarks: BenchmarkWriter,
) -> None:
    path = write_benchmarks({"test_a": None})

    with pytest.raises(ResultsError, match=r"no raw timings for 'test_a'.*--benchmark-save-data"):
        read_pytest_benchmark(path)


@pytest.mark.parametrize(
    "data",
    [
        pytest.param([1e-3, -1e-3], id="negative"),
        pytest.param([1e-3, "fast"], id="text"),
        pytest.param([1e-3, 0.0], id="zero"),
    ],
)
def test_invalid_timings_are_rejected(
    write_benchmarks: BenchmarkWriter, data: list[object]
) -> None:
    path = write_benchmarks({"test_a": data})

    with pytest.raises(ResultsError, match="invalid raw timings for 'test_a'"):
        read_pytest_benchmark(path)


def test_repeats_of_one_side_are_merged(
    make_samples: SampleMaker, write_benchmarks: BenchmarkWriter
) -> None:
    first = write_benchmarks({"test_a": make_samples(1, count=10)})
    second = write_benchmarks({"test_a": make_samples(2, count=12)})

    side = load_side([first, second], "baseline")

    series = side.series["microbench/test_example.py::test_a"]
    assert [len(samples) for samples in series.repeats] == [10, 12]
    assert side.sources == (str(first), str(second))


def test_repeats_from_different_machines_are_rejected(
    make_samples: SampleMaker, machine_info: dict[str, Any], write_benchmarks: BenchmarkWriter
) -> None:
    first = write_benchmarks({"test_a": make_samples(1)})
    other_machine = {**machine_info, "cpu": {"brand_raw": "Other CPU", "count": 8}}
    second = write_benchmarks({"test_a": make_samples(2)}, machine=other_machine)

    with pytest.raises(ResultsError, match="baseline repeats come from different machines"):
        load_side([first, second], "baseline")


def test_side_without_inputs_is_rejected() -> None:
    with pytest.raises(ResultsError, match="no candidate given"):
        load_side([], "candidate")


def test_folder_without_run_file_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(ResultsError, match=r"folder without run\.json"):
        load_side([tmp_path], "baseline")


def test_side_mixing_kinds_is_rejected(
    make_samples: SampleMaker, write_benchmarks: BenchmarkWriter, write_run_folder: RunWriter
) -> None:
    json_file = write_benchmarks({"test_a": make_samples(1)})
    run_dir = write_run_folder("run-a")

    with pytest.raises(ResultsError, match="mixes pytest-benchmark files and perfgate run folders"):
        load_side([json_file, run_dir], "baseline")


def test_run_folder_gives_per_second_series(write_run_folder: RunWriter) -> None:
    run_dir = write_run_folder("run-a", seconds=15, latency_us=2000, rps=100)

    side = load_side([run_dir], "baseline")

    assert side.kind is SourceKind.PERFGATE_RUN
    assert side.invalid_reasons == ()
    rps = side.series["GET /json rps"]
    assert rps.higher_is_better
    assert rps.sample_count == 15
    p99 = side.series["GET /json p99_ms"]
    assert not p99.higher_is_better
    assert p99.sample_count == 15
    assert 1.9 < float(p99.pooled().min()) < 2.3
    assert {"GET /json p50_ms", "GET /json p90_ms", "GET /json p999_ms"} <= set(side.series)
    assert side.series["GET /json rps"].parameters["codec"] == "orjson"


def test_run_folder_without_log_uses_timeseries(write_run_folder: RunWriter) -> None:
    run_dir = write_run_folder("run-a", seconds=12, with_log=False)

    side = load_side([run_dir / "run.json"], "baseline")

    assert side.series["GET /json p99_ms"].sample_count == 12
    assert "GET /json p90_ms" not in side.series


def test_invalid_run_keeps_its_reasons(write_run_folder: RunWriter) -> None:
    run_dir = write_run_folder(
        "run-bad", verdict="invalid", invalid_reasons=["load generator saturated"]
    )

    side = load_side([run_dir], "candidate")

    assert side.invalid_reasons == ("run run-bad is invalid: load generator saturated",)


def test_run_folder_without_timeseries_is_rejected(write_run_folder: RunWriter) -> None:
    run_dir = write_run_folder("run-a")
    (run_dir / "timeseries.csv").unlink()

    with pytest.raises(ResultsError, match=r"timeseries\.csv' not found"):
        load_side([run_dir], "baseline")
