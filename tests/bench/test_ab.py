"""`perfgate bench --ab REF`: the base revision in a worktree, in turns with the working tree."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from perfgate.bench.ab import run_ab
from perfgate.bench.runner import BenchOptions
from perfgate.errors import ConfigError

SUITE = """
from tinypkg import VERSION


def test_version(benchmark):
    benchmark(sum, range(10))
    benchmark.extra_info["version"] = VERSION
"""
SHORT = ("--benchmark-max-time=0.01", "--benchmark-min-rounds=5", "-q")


def _git(repo: Path, *args: str) -> str:
    completed = subprocess.run(
        ["git", *args], cwd=repo, capture_output=True, text=True, timeout=60, check=True
    )
    return completed.stdout


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A git repository whose committed `tinypkg` is version 1 and whose working tree is 2."""
    root = tmp_path / "repo"
    (root / "tinypkg").mkdir(parents=True)
    (root / "suite").mkdir()
    (root / "suite" / "test_version.py").write_text(SUITE, encoding="utf-8")
    (root / "tinypkg" / "__init__.py").write_text("VERSION = 1\n", encoding="utf-8")
    _git(root, "init", "-q")
    _git(root, "add", ".")
    _git(root, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "-m", "v1")
    (root / "tinypkg" / "__init__.py").write_text("VERSION = 2\n", encoding="utf-8")
    return root


def _version(path: Path) -> int:
    document = json.loads(path.read_text(encoding="utf-8"))
    version: int = document["benchmarks"][0]["extra_info"]["version"]
    return version


def test_sides_measure_their_own_code(repo: Path) -> None:
    options = BenchOptions(
        suite=Path("suite"), out=Path("results/bench"), repeats=2, cwd=repo, pytest_args=SHORT
    )
    order: list[str] = []

    outcome = run_ab("HEAD", options, on_file=lambda path: order.append(path.stem.split("-")[-2]))

    assert outcome.exit_code == 0
    assert [_version(path) for path in outcome.base_paths] == [1, 1]
    assert [_version(path) for path in outcome.candidate_paths] == [2, 2]
    assert order == ["base", "candidate", "candidate", "base"]
    assert all(path.parent == repo / "results" / "bench" for path in outcome.base_paths)


def test_worktree_is_removed_afterwards(repo: Path) -> None:
    options = BenchOptions(suite=Path("suite"), out=Path("out"), cwd=repo, pytest_args=SHORT)

    run_ab("HEAD", options)

    assert _git(repo, "worktree", "list").count("\n") == 1


def test_unknown_revision_is_rejected(repo: Path) -> None:
    options = BenchOptions(suite=Path("suite"), cwd=repo)

    with pytest.raises(ConfigError, match="git revision 'no-such-branch' not found"):
        run_ab("no-such-branch", options)


def test_folder_outside_git_is_rejected(tmp_path: Path) -> None:
    options = BenchOptions(cwd=tmp_path)

    with pytest.raises(ConfigError, match="git rev-parse --show-toplevel failed"):
        run_ab("HEAD", options)
