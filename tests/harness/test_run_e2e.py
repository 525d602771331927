"""`perfgate run` end to end: a real target, a Locust master, two worker processes."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import psutil
import pytest

ROOT = Path(__file__).resolve().parents[2]
LOCUSTFILE = ROOT / "locustfiles" / "api.py"
ENDPOINTS = {
    "GET /json",
    "GET /plaintext",
    "GET /db",
    "GET /queries",
    "GET /updates",
    "GET /fortunes",
}
RUN_TIMEOUT_S = 120

pytestmark = pytest.mark.e2e

SHORT_PROFILE = f"""
description = "Short end-to-end profile for the tests."
locustfile = "{LOCUSTFILE}"
warmup = "1s"
thresholds = ["fail_ratio < 1%"]

[[stages]]
name = "ramp"
duration = "2s"
users = 8
spawn_rate = 8
measure = false

[[stages]]
name = "steady"
duration = "6s"
users = 8
"""


def _perfgate(*arguments: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "perfgate", *arguments],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_S,
        check=False,
    )


def _session_processes(session_id: int) -> list[psutil.Process]:
    found = []
    for process in psutil.process_iter():
        try:
            if os.getsid(process.pid) == session_id and process.status() != psutil.STATUS_ZOMBIE:
                found.append(process)
        except (ProcessLookupError, psutil.Error):
            continue
    return found


@pytest.fixture(scope="module")
def finished_run(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[subprocess.CompletedProcess[str], Path]:
    folder = tmp_path_factory.mktemp("e2e")
    profile = folder / "short.toml"
    profile.write_text(SHORT_PROFILE)
    completed = _perfgate(
        "run", "--profile", str(profile), "--workers", "2",
        "--out", str(folder / "results"), "--data-dir", str(folder / "data"),
        cwd=folder,
    )  # fmt: skip
    run_dirs = list((folder / "results").glob("*"))
    assert len(run_dirs) == 1, completed.stdout + completed.stderr
    return completed, run_dirs[0]


def _record(run_dir: Path) -> dict[str, Any]:
    record: dict[str, Any] = json.loads((run_dir / "run.json").read_text())
    return record


def test_run_passes_with_zero_failures(
    finished_run: tuple[subprocess.CompletedProcess[str], Path],
) -> None:
    completed, run_dir = finished_run
    record = _record(run_dir)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert record["schema"] == "perfgate.run/1"
    assert record["verdict"] == "pass", record["invalid_reasons"]
    assert record["total"]["requests"] > 0
    assert record["total"]["failures"] == 0
    assert record["generator"]["workers"] == 2
    assert record["generator"]["workers_lost"] == 0
    assert record["window"]["steady"]
    assert record["target"]["started_by_perfgate"]


def test_every_endpoint_present_with_ordered_percentiles(
    finished_run: tuple[subprocess.CompletedProcess[str], Path],
) -> None:
    record = _record(finished_run[1])
    assert {endpoint["name"] for endpoint in record["endpoints"]} == ENDPOINTS
    for result in [*record["endpoints"], record["total"]]:
        latency = result["latency_ms"]
        ordered = [latency[key] for key in ("min", "p50", "p90", "p99", "p999", "max")]
        assert ordered == sorted(ordered), result["name"]
        assert result["requests"] > 0, result["name"]


def test_totals_agree_with_endpoints_and_workers(
    finished_run: tuple[subprocess.CompletedProcess[str], Path],
) -> None:
    record = _record(finished_run[1])
    generator = record["generator"]
    assert record["total"]["requests"] == sum(
        endpoint["requests"] for endpoint in record["endpoints"]
    )
    assert generator["samples_lost"] == 0
    assert generator["requests_recorded"] == generator["locust_requests"]
    assert record["total"]["requests"] <= generator["requests_recorded"]


def test_timeseries_and_histogram_log_cover_the_run(
    finished_run: tuple[subprocess.CompletedProcess[str], Path],
) -> None:
    from perfgate.histograms.hlog import read_interval_log

    run_dir = finished_run[1]
    record = _record(run_dir)
    with (run_dir / "timeseries.csv").open() as stream:
        rows = list(csv.DictReader(stream))
    per_endpoint = [row for row in rows if row["endpoint"] != "total"]
    window_rows = [row for row in rows if row["endpoint"] == "total" and row["phase"] == "window"]

    assert (
        sum(int(row["requests"]) for row in per_endpoint)
        == record["generator"]["requests_recorded"]
    )
    assert sum(int(row["requests"]) for row in window_rows) == record["total"]["requests"]
    assert {row["phase"] for row in rows} >= {"ramp", "window"}

    intervals = list(read_interval_log(run_dir / "histograms.hlog"))
    assert (
        sum(interval.histogram.get_total_count() for interval in intervals)
        == record["generator"]["requests_recorded"]
    )


def test_summary_printed_with_results_path(
    finished_run: tuple[subprocess.CompletedProcess[str], Path],
) -> None:
    completed, run_dir = finished_run
    assert "GET /queries" in completed.stdout
    assert "verdict: pass" in completed.stdout
    assert f"results: {run_dir}" in completed.stdout


def test_unreachable_host_exits_3_naming_url(tmp_path: Path) -> None:
    url = "http://127.0.0.1:9"
    completed = _perfgate(
        "run", "--host", url, "--workers", "1", "--out", str(tmp_path), cwd=tmp_path
    )
    assert completed.returncode == 3, completed.stderr
    assert f"cannot connect to the target at '{url}'" in completed.stderr


def test_broken_profile_exits_2_naming_field(tmp_path: Path) -> None:
    profile = tmp_path / "broken.toml"
    profile.write_text("[[stages]]\nduration = '1s'\nusers = 'many'\n")
    completed = _perfgate("run", "--profile", str(profile), "--out", str(tmp_path), cwd=tmp_path)
    assert completed.returncode == 2
    assert "invalid stages[0].users = 'many'" in completed.stderr


def test_interrupted_run_leaves_no_process(tmp_path: Path) -> None:
    profile = tmp_path / "long.toml"
    profile.write_text(SHORT_PROFILE.replace('duration = "6s"', 'duration = "60s"'))
    process = subprocess.Popen(
        [sys.executable, "-m", "perfgate", "run", "--profile", str(profile), "--workers", "2",
         "--out", str(tmp_path / "results"), "--data-dir", str(tmp_path / "data")],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and len(_session_processes(process.pid)) < 4:
            time.sleep(0.2)
        assert len(_session_processes(process.pid)) >= 4, "target and workers never started"
        process.send_signal(signal.SIGINT)
        process.wait(timeout=60)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and _session_processes(process.pid):
            time.sleep(0.2)
        assert _session_processes(process.pid) == []
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    assert process.returncode != 0


def test_abort_on_fail_ends_run_early_with_exit_1(tmp_path: Path) -> None:
    completed = _perfgate(
        "run", "--locustfile", str(LOCUSTFILE), "--users", "4", "--duration", "30s",
        "--workers", "1", "--abort-on-fail", "--threshold", "p50 < 0.001ms",
        "--out", str(tmp_path / "results"), "--data-dir", str(tmp_path / "data"),
        cwd=tmp_path,
    )  # fmt: skip
    (run_dir,) = (tmp_path / "results").iterdir()
    record = _record(run_dir)

    assert completed.returncode == 1, completed.stderr
    assert record["aborted_by"] == "p50 < 0.001ms"
    assert record["verdict"] == "fail"
    assert record["window"]["end_s"] - record["window"]["start_s"] < 20
    assert "ended early: threshold 'p50 < 0.001ms' failed" in completed.stdout


def test_run_passes_target_options_through(tmp_path: Path) -> None:
    completed = _perfgate(
        "run", "--locustfile", str(LOCUSTFILE), "--users", "4", "--duration", "3s",
        "--workers", "1", "--target", "asgi", "--server", "uvicorn", "--codec", "msgspec",
        "--loop", "asyncio", "--shards", "2", "--router", "modulo",
        "--out", str(tmp_path / "results"), "--data-dir", str(tmp_path / "data"),
        cwd=tmp_path,
    )  # fmt: skip
    (run_dir,) = (tmp_path / "results").iterdir()
    record = _record(run_dir)
    target_log = (run_dir / "target.log").read_text()

    assert completed.returncode == 0, completed.stderr
    assert record["target"]["variant"] == "asgi/uvicorn"
    assert record["target"]["codec"] == "msgspec"
    assert record["target"]["router"] == "modulo"
    assert record["total"]["failures"] == 0
    assert "uvicorn" in target_log
    assert len(list((tmp_path / "data").glob("*"))) >= 2


def test_verify_failure_sends_no_load_and_exits_1(tmp_path: Path) -> None:
    ready = tmp_path / "canned.ready"
    canned = subprocess.Popen(
        [sys.executable, "-m", "perfgate.calibrate.canned_server", "--ready-file", str(ready)]
    )
    try:
        deadline = time.monotonic() + 30
        while not ready.exists():
            assert time.monotonic() < deadline, "the canned server did not start"
            time.sleep(0.05)
        url = f"http://{ready.read_text()}"
        completed = _perfgate(
            "run", "--host", url, "--locustfile", str(LOCUSTFILE), "--users", "1",
            "--workers", "1", "--verify", "--out", str(tmp_path / "results"),
            cwd=tmp_path,
        )  # fmt: skip
    finally:
        canned.terminate()
        canned.wait(timeout=30)

    assert completed.returncode == 1, completed.stderr
    assert f"the target at {url} broke" in completed.stderr
    assert f"run `perfgate verify {url}`" in completed.stderr
    assert not list((tmp_path / "results").glob("*/run.json"))
