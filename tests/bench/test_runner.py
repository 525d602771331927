"""`perfgate bench`: running a suite in a child pytest and keeping its JSON."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from perfgate.bench.runner import (
    DEFAULT_BENCHMARK_ARGS,
    BenchOptions,
    bench_command,
    pytest_args,
    run_bench,
)
from perfgate.errors import ConfigError
from perfgate.gate.loaders import load_side

TINY_SUITE = """
def test_sum(benchmark):
    benchmark(sum, range(100))
"""
FAILING_SUITE = """
def test_broken(benchmark):
    benchmark(lambda: 1 / 0)
"""
# A short, bounded measurement: the tests check the plumbing, not the numbers.
SHORT = ("--benchmark-max-time=0.01", "--benchmark-min-rounds=5", "-q")


def _suite(tmp_path: Path, source: str) -> Path:
    suite = tmp_path / "suite"
    suite.mkdir()
    (suite / "test_tiny.py").write_text(source, encoding="utf-8")
    return suite


def test_command_puts_user_arguments_last(tmp_path: Path) -> None:
    options = BenchOptions(suite=Path("microbench"), pytest_args=("-k", "json"))

    command = bench_command(tmp_path / "out.json", options, python="python3")

    assert command[:4] == ["python3", "-m", "pytest", "microbench"]
    assert f"--benchmark-json={tmp_path / 'out.json'}" in command
    assert command[-2:] == ["-k", "json"]
    assert command.index(DEFAULT_BENCHMARK_ARGS[0]) < command.index("-k")


@pytest.mark.parametrize(
    "argument",
    ["--benchmark-json=x.json", "--benchmark-disable", "--benchmark-skip"],
    ids=["json", "disable", "skip"],
)
def test_conflicting_pytest_argument_is_rejected(argument: str) -> None:
    with pytest.raises(ConfigError, match=rf"pytest argument '{argument}' conflicts"):
        pytest_args(["-k", "json", argument])


@pytest.mark.parametrize("repeats", [0, 51], ids=["zero", "too-many"])
def test_repeat_count_is_bounded(repeats: int) -> None:
    with pytest.raises(ConfigError, match=f"invalid repeat count {repeats}"):
        BenchOptions(repeats=repeats)


def test_missing_suite_is_rejected(tmp_path: Path) -> None:
    options = BenchOptions(suite=Path("absent"), out=tmp_path, cwd=tmp_path)

    with pytest.raises(ConfigError, match=r"benchmark suite .* not found"):
        run_bench(options)


def test_repeats_write_readable_files(tmp_path: Path) -> None:
    suite = _suite(tmp_path, TINY_SUITE)
    seen: list[Path] = []
    options = BenchOptions(suite=suite, out=tmp_path / "bench", repeats=2, pytest_args=SHORT)

    outcome = run_bench(options, on_file=seen.append)

    assert outcome.exit_code == 0
    assert len(outcome.json_paths) == 2
    assert seen == list(outcome.json_paths)
    assert all(path.name.endswith(f"-r{index}.json") for index, path in enumerate(seen, 1))
    document = json.loads(outcome.json_paths[0].read_text(encoding="utf-8"))
    assert document["benchmarks"][0]["stats"]["data"]
    side = load_side(list(outcome.json_paths), "baseline")
    (series,) = side.series.values()
    assert len(series.repeats) == 2


def test_each_file_runs_in_its_own_process(tmp_path: Path) -> None:
    suite = _suite(tmp_path, TINY_SUITE)
    # This file changes the interpreter for whoever runs after it in one process.
    (suite / "test_patcher.py").write_text(
        "import builtins\nbuiltins.PATCHED = True\n\n\n"
        "def test_patch(benchmark):\n    benchmark(sum, range(10))\n",
        encoding="utf-8",
    )
    (suite / "test_victim.py").write_text(
        "import builtins\n\n\n"
        "def test_victim(benchmark):\n"
        "    assert not hasattr(builtins, 'PATCHED')\n"
        "    benchmark(sum, range(10))\n",
        encoding="utf-8",
    )
    options = BenchOptions(suite=suite, out=tmp_path / "bench", pytest_args=SHORT)

    outcome = run_bench(options)

    assert outcome.exit_code == 0
    (path,) = outcome.json_paths
    document = json.loads(path.read_text(encoding="utf-8"))
    names = sorted(entry["name"] for entry in document["benchmarks"])
    assert names == ["test_patch", "test_sum", "test_victim"]
    assert sorted(item.name for item in path.parent.iterdir()) == [path.name]


def test_selection_that_leaves_no_test_exits_two(tmp_path: Path) -> None:
    suite = _suite(tmp_path, TINY_SUITE)
    options = BenchOptions(suite=suite, out=tmp_path / "bench", pytest_args=("-k", "nothing"))

    outcome = run_bench(options)

    assert outcome.exit_code == 2


def test_failing_benchmark_exits_one(tmp_path: Path) -> None:
    suite = _suite(tmp_path, FAILING_SUITE)
    options = BenchOptions(suite=suite, out=tmp_path / "bench", pytest_args=SHORT)

    outcome = run_bench(options)

    assert outcome.exit_code == 1
    assert outcome.json_paths == ()


def test_unknown_pytest_option_exits_two(tmp_path: Path) -> None:
    suite = _suite(tmp_path, TINY_SUITE)
    options = BenchOptions(suite=suite, out=tmp_path / "bench", pytest_args=("--no-such-option",))

    outcome = run_bench(options)

    assert outcome.exit_code == 2


def test_python_is_the_running_interpreter(tmp_path: Path) -> None:
    command = bench_command(tmp_path / "out.json", BenchOptions())

    assert command[0] == sys.executable
