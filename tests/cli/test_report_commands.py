"""The `report`, `compare` and `history` commands on synthetic run folders."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from perfgate.cli import app
from perfgate.errors import ConfigError
from perfgate.report.synthetic import SyntheticEndpoint, SyntheticRun, write_synthetic_run

runner = CliRunner()


@pytest.fixture
def results(tmp_path: Path) -> Path:
    """Return a results folder with two repeats each of two codecs."""
    fast = [SyntheticEndpoint("GET /db", 100, 3.0)]
    slow = [SyntheticEndpoint("GET /db", 100, 4.5)]
    for seed in range(2):
        shape = SyntheticRun(f"a-{seed}", fast, seed=seed, started_at_s=1.8e9 + 60 * seed)
        write_synthetic_run(tmp_path / "results" / "orjson", shape)
        shape = SyntheticRun(
            f"b-{seed}", slow, codec="json", seed=10 + seed, started_at_s=1.8e9 + 60 * seed + 30
        )
        write_synthetic_run(tmp_path / "results" / "json", shape)
    return tmp_path / "results"


def test_report_command_writes_html(results: Path) -> None:
    run_dir = results / "orjson" / "a-0"

    outcome = runner.invoke(app, ["report", str(run_dir)])

    assert outcome.exit_code == 0, outcome.output
    assert (run_dir / "report.html").is_file()
    assert f"report: {run_dir / 'report.html'}" in outcome.output


def test_compare_command_prints_intervals(results: Path) -> None:
    outcome = runner.invoke(
        app, ["compare", str(results / "orjson"), str(results / "json"), "--metric", "p50"]
    )

    assert outcome.exit_code == 0, outcome.output
    assert "baseline 2 repeats vs candidate 2 repeats" in outcome.output
    assert "95% interval" in outcome.output
    assert "worse" in outcome.output


def test_compare_command_rejects_missing_side(results: Path) -> None:
    outcome = runner.invoke(app, ["compare", str(results / "orjson"), str(results / "nope")])

    assert isinstance(outcome.exception, ConfigError)
    assert "not found; pass a folder such as results/<run-id>" in str(outcome.exception)


def test_history_command_indexes_and_shows_trend(results: Path, tmp_path: Path) -> None:
    page = tmp_path / "trend.html"

    outcome = runner.invoke(
        app,
        ["history", "--metric", "GET /db p99", "--results", str(results), "--html", str(page)],
    )

    assert outcome.exit_code == 0, outcome.output
    assert "GET /db p99 (ms) over 4 stored result(s)" in outcome.output
    assert (results / "history" / "runs").is_dir()
    assert page.is_file()
    assert "<svg" in page.read_text()


def test_history_command_last_two(results: Path) -> None:
    outcome = runner.invoke(
        app, ["history", "--metric", "GET /db p50", "--results", str(results), "--last", "2"]
    )

    assert outcome.exit_code == 0, outcome.output
    assert "over 2 stored result(s)" in outcome.output
    assert "a-1" in outcome.output
    assert "a-0" not in outcome.output


def test_history_command_unknown_metric(results: Path) -> None:
    outcome = runner.invoke(app, ["history", "--metric", "GET /db p95", "--results", str(results)])

    assert isinstance(outcome.exception, ConfigError)
    assert "'GET /db' has no metric 'p95'" in str(outcome.exception)
