"""Every write acknowledged with 201 survives kill -9 of the target, on SQLite and PostgreSQL."""

from __future__ import annotations

import signal
import threading
import time
from typing import TYPE_CHECKING

import httpx
import pytest

if TYPE_CHECKING:
    from tests.targets.conftest import StartTarget, TargetProcess


WRITERS = 8
ACKNOWLEDGED_BEFORE_KILL = 400
WRITE_TIMEOUT_S = 60.0


@pytest.fixture(params=["sqlite", "postgresql"])
def db_options(request: pytest.FixtureRequest) -> list[str]:
    if request.param == "sqlite":
        return []
    return ["--db", request.getfixturevalue("postgres_template"), "--pool-size", "4"]


class Writers:
    """Threads that create users until stopped, keeping the ids acknowledged with 201."""

    def __init__(self, base_url: str) -> None:
        self.acknowledged: list[int] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._base_url = base_url
        self._threads = [
            threading.Thread(target=self._write, args=(index,), daemon=True)
            for index in range(WRITERS)
        ]

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(WRITE_TIMEOUT_S)

    def count(self) -> int:
        with self._lock:
            return len(self.acknowledged)

    def _write(self, index: int) -> None:
        deadline_s = time.monotonic() + WRITE_TIMEOUT_S
        user_id = index + 1
        with httpx.Client(base_url=self._base_url, timeout=5.0) as client:
            while not self._stop.is_set() and time.monotonic() < deadline_s:
                try:
                    response = client.post(
                        "/users", json={"id": user_id, "name": f"u{user_id}", "region": "eu"}
                    )
                except httpx.HTTPError:
                    return  # the target was killed
                if response.status_code == 201:
                    with self._lock:
                        self.acknowledged.append(user_id)
                user_id += WRITERS


def test_acknowledged_writes_survive_kill(start_target: StartTarget, db_options: list[str]) -> None:
    target = start_target("target", *db_options)
    writers = Writers(target.base_url)
    writers.start()
    deadline_s = time.monotonic() + WRITE_TIMEOUT_S
    while writers.count() < ACKNOWLEDGED_BEFORE_KILL and time.monotonic() < deadline_s:
        time.sleep(0.01)

    # SIGKILL while writes are still in flight: no shutdown step runs.
    target.send_signal(signal.SIGKILL)
    target.wait()
    writers.stop()
    acknowledged = list(writers.acknowledged)
    assert len(acknowledged) >= ACKNOWLEDGED_BEFORE_KILL

    # The killed process left its ready file; the restart must write a new one.
    target.ready_file.unlink()
    restarted: TargetProcess = start_target("target", *db_options)
    missing = []
    with httpx.Client(base_url=restarted.base_url, timeout=10.0) as client:
        for user_id in acknowledged:
            if client.get(f"/users/{user_id}").status_code != 200:
                missing.append(user_id)
    assert missing == []
