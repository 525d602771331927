"""Faults during a run: a worker killed, the master killed, the target killed."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest

ROOT = Path(__file__).resolve().parents[2]
LOCUSTFILE = ROOT / "locustfiles" / "api.py"
WAIT_S = 60

pytestmark = pytest.mark.e2e


def _wait_for(condition: Callable[[], bool], what: str, timeout_s: float = WAIT_S) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


def _children(process: subprocess.Popen[str], word: str) -> list[psutil.Process]:
    try:
        children = psutil.Process(process.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []
    found = []
    for child in children:
        try:
            if word in child.cmdline():
                found.append(child)
        except psutil.Error:
            continue
    return found


@pytest.fixture
def start_run(tmp_path: Path) -> Iterator[Callable[..., subprocess.Popen[str]]]:
    started: list[subprocess.Popen[str]] = []

    def start(*arguments: str) -> subprocess.Popen[str]:
        process = subprocess.Popen(
            [sys.executable, "-m", "perfgate", "run", "--locustfile", str(LOCUSTFILE),
             "--out", str(tmp_path / "results"), "--data-dir", str(tmp_path / "data"), *arguments],
            cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            start_new_session=True,
        )  # fmt: skip
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        process.communicate(timeout=30)


def _record(tmp_path: Path) -> dict[str, Any]:
    (run_dir,) = (tmp_path / "results").iterdir()
    record: dict[str, Any] = json.loads((run_dir / "run.json").read_text())
    return record


def _wait_until_loaded(process: subprocess.Popen[str], workers: int) -> None:
    _wait_for(lambda: len(_children(process, "worker")) == workers, "the workers to start")
    # Load starts once the target is ready and the workers joined; give it a moment of load.
    _wait_for(lambda: len(_children(process, "serve")) == 1, "the target to start")
    time.sleep(5)


def test_killed_worker_makes_run_invalid(
    tmp_path: Path, start_run: Callable[..., subprocess.Popen[str]]
) -> None:
    process = start_run("--users", "4", "--duration", "30s", "--workers", "2")
    _wait_until_loaded(process, workers=2)
    _children(process, "worker")[0].kill()
    _, stderr = process.communicate(timeout=WAIT_S)
    record = _record(tmp_path)

    assert process.returncode == 3, stderr
    assert record["verdict"] == "invalid"
    assert record["generator"]["workers_lost"] == 1
    assert any(
        "exited with code -9 during the run" in reason for reason in record["invalid_reasons"]
    )


def test_killed_target_keeps_partial_results_marked_invalid(
    tmp_path: Path, start_run: Callable[..., subprocess.Popen[str]]
) -> None:
    process = start_run("--users", "4", "--duration", "30s", "--workers", "1")
    _wait_until_loaded(process, workers=1)
    _children(process, "serve")[0].kill()
    _, stderr = process.communicate(timeout=WAIT_S)
    record = _record(tmp_path)

    assert process.returncode == 3, stderr
    assert record["verdict"] == "invalid"
    assert record["invalid_reasons"][0].startswith("target exited with code -9 during the run")
    assert record["generator"]["requests_recorded"] > 0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def test_worker_quits_by_itself_when_master_dies(
    tmp_path: Path, start_run: Callable[..., subprocess.Popen[str]]
) -> None:
    port = _free_port()
    process = start_run(
        "--users", "2", "--duration", "60s", "--workers", "0", "--expect-workers", "1",
        "--master-port", str(port),
    )  # fmt: skip
    # A worker that is not perfgate's child, as on another machine.
    worker = subprocess.Popen(
        [sys.executable, "-m", "perfgate", "worker", "--master", f"127.0.0.1:{port}",
         "--locustfile", str(LOCUSTFILE)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    try:
        _wait_for(lambda: len(_children(process, "serve")) == 1, "the target to start")
        time.sleep(5)
        os.killpg(process.pid, signal.SIGKILL)
        started = time.monotonic()
        worker.wait(timeout=WAIT_S)
        assert time.monotonic() - started < 30
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
