"""`perfgate capacity` against a server whose capacity is known exactly."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

SERVER = Path(__file__).resolve().parents[1] / "support" / "known_server.py"
SERVICE_S = 0.020  # one request at a time, 20 ms each: capacity 50 requests/s

LOCUSTFILE = """
from locust import FastHttpUser, task

class Client(FastHttpUser):
    @task
    def get(self) -> None:
        self.client.get("/x", name="/x")
"""


@pytest.mark.e2e
def test_capacity_found_within_15_percent(tmp_path: Path) -> None:
    ready = tmp_path / "server.ready"
    server = subprocess.Popen(
        [sys.executable, str(SERVER), "--ready-file", str(ready),
         "--record-file", str(tmp_path / "record.json"), "--service-s", str(SERVICE_S)],
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while not ready.exists():
            assert time.monotonic() < deadline, "the known server did not start"
            time.sleep(0.05)
        locustfile = tmp_path / "client.py"
        locustfile.write_text(LOCUSTFILE)
        completed = subprocess.run(
            [sys.executable, "-m", "perfgate", "capacity", "--slo", "p99<300ms",
             "--host", f"http://{ready.read_text()}", "--locustfile", str(locustfile),
             "--workers", "2", "--start-rate", "15", "--step-duration", "4",
             "--precision", "0.05", "--max-in-flight", "64", "--out", str(tmp_path / "results")],
            capture_output=True, text=True, timeout=600, check=False,
        )  # fmt: skip
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)

    assert completed.returncode == 0, completed.stdout + completed.stderr
    (folder,) = (tmp_path / "results").glob("capacity-*")
    result = json.loads((folder / "capacity.json").read_text())
    capacity_rps = 1 / SERVICE_S

    assert result["schema"] == "perfgate.capacity/1"
    assert result["max_rate_rps"] == pytest.approx(capacity_rps, rel=0.15)
    assert not result["lower_bound"]
    assert any(not step["met_slo"] for step in result["steps"])
    assert (folder / "capacity.svg").read_text().count("<path") > 3
    assert "capacity:" in completed.stdout
