"""`perfgate calibrate`: sizing arithmetic and one short real calibration."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from perfgate.calibrate.measure import CalibrationResult


def test_overhead_and_workers_needed() -> None:
    result = CalibrationResult(
        recording_rps=[950.0, 1000.0, 900.0], counting_rps=[1000.0, 1000.0], target_rate_rps=3500.0
    )
    assert result.max_rps_per_worker == 950.0
    assert result.overhead_ratio == pytest.approx(0.05)
    # 3500 / (950 * 0.7) = 5.26, so six workers.
    assert result.workers_needed == 6


def test_no_target_rate_needs_no_sizing() -> None:
    result = CalibrationResult([100.0], [100.0], None)
    assert result.workers_needed is None


@pytest.mark.e2e
def test_calibrate_command_prints_rates(tmp_path: Path) -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "perfgate", "calibrate", "--rate", "1000", "--duration", "2",
         "--repeats", "1", "--users", "8", "--out", str(tmp_path)],
        capture_output=True, text=True, timeout=180, check=False,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stderr
    rate_line = next(
        line for line in completed.stdout.splitlines() if "max rate per worker" in line
    )
    assert float(rate_line.split(":")[1].split()[0].replace(",", "")) > 100
    assert "workers for 1,000 req/s:" in completed.stdout
