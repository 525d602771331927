"""Fixtures of the report tests: synthetic run folders written by perfgate's own writers."""

from __future__ import annotations

from pathlib import Path

import pytest

from perfgate.report.synthetic import SyntheticEndpoint, SyntheticRun, write_synthetic_run

ENDPOINTS = (
    SyntheticEndpoint("GET /db", 200, 3.0, sigma=0.7, failure_ratio=0.03),
    SyntheticEndpoint("GET /json", 150, 1.0),
    SyntheticEndpoint("GET /queries", 80, 6.0, sigma=0.9),
)


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    """Return a closed-model synthetic run folder with three endpoints and some failures."""
    return write_synthetic_run(tmp_path / "results", SyntheticRun("run-closed", ENDPOINTS))


@pytest.fixture
def open_run_dir(tmp_path: Path) -> Path:
    """Return an open-model synthetic run folder, with uncorrected intervals."""
    shape = SyntheticRun("run-open", ENDPOINTS, open_model=True, seed=3)
    return write_synthetic_run(tmp_path / "results", shape)
