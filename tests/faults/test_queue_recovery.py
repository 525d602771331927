"""Every event acknowledged with 202 is processed exactly once in effect, across consumer crashes.

A `perfgate consume` process is killed with SIGKILL while it has claimed events
(outbox rows in `processing`, or Redis entries pending), then started again. The
new consumer resumes those events once their lease expires, and a reconciliation
count proves that each event changed its user exactly once.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest
import redis

if TYPE_CHECKING:
    from tests.targets.conftest import StartTarget, TargetProcess


SHARDS = 4
USERS = 20
EVENTS = 2000
SENDERS = 8
LEASE_S = 1.0
BATCH = 4
"""Small batches make processing last long enough for a kill to land inside one."""
KILL_ATTEMPTS = 5
WAIT_S = 60.0
POLL_INTERVAL_S = 0.005


@pytest.fixture(params=["outbox", "redis"])
def queue_options(request: pytest.FixtureRequest) -> list[str]:
    if request.param == "outbox":
        return []
    name = request.getfixturevalue("queue_name")
    return ["--queue", request.getfixturevalue("redis_url"), "--queue-name", name]


def _start_consumer(
    target: TargetProcess, queue_options: list[str], log: Path
) -> subprocess.Popen[bytes]:
    command = [
        sys.executable, "-m", "perfgate", "consume", "--data-dir", str(target.data_dir),
        "--shards", str(SHARDS), "--lease", str(LEASE_S), "--batch", str(BATCH), *queue_options,
    ]  # fmt: skip
    with log.open("ab") as output:
        return subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT)


def _outbox_counts(data_dir: Path) -> dict[str, int]:
    counts: dict[str, int] = {}
    for index in range(SHARDS):
        connection = sqlite3.connect(data_dir / f"shard-{index}.sqlite3")
        for status, count in connection.execute("SELECT status, count(*) FROM outbox GROUP BY 1"):
            counts[status] = counts.get(status, 0) + count
        connection.close()
    return counts


def _applied_done(data_dir: Path) -> int:
    total = 0
    for index in range(SHARDS):
        connection = sqlite3.connect(data_dir / f"shard-{index}.sqlite3")
        row = connection.execute("SELECT count(*) FROM applied_events WHERE outcome = 'done'")
        total += int(row.fetchone()[0])
        connection.close()
    return total


def _claimed_unfinished(target: TargetProcess, queue_options: list[str]) -> int:
    """Count events a consumer took but did not finish: the proof of a cut-off batch."""
    if not queue_options:
        return _outbox_counts(target.data_dir).get("processing", 0)
    client = redis.Redis.from_url(queue_options[1])
    try:
        summary: dict[str, object] = client.xpending(queue_options[3], "perfgate")  # type: ignore[assignment]
        return int(str(summary["pending"]))
    finally:
        client.close()


def _send_events(client_url: str) -> list[str]:
    def send(sender: int) -> list[str]:
        locations = []
        with httpx.Client(base_url=client_url, timeout=10.0) as client:
            for index in range(sender, EVENTS, SENDERS):
                body = {"kind": "visit", "user_id": index % USERS + 1, "n": index}
                response = client.post("/events", json=body)
                assert response.status_code == 202, response.text
                locations.append(str(response.headers["Location"]))
        return locations

    with ThreadPoolExecutor(SENDERS) as pool:
        return [location for batch in pool.map(send, range(SENDERS)) for location in batch]


def test_killed_consumer_resumed_exactly_once(
    start_target: StartTarget, queue_options: list[str], tmp_path: Path
) -> None:
    target = start_target("target", "--shards", str(SHARDS), "--consumers", "0", *queue_options)
    with httpx.Client(base_url=target.base_url, timeout=10.0) as client:
        for user_id in range(1, USERS + 1):
            client.post("/users", json={"id": user_id, "name": "u", "region": "eu"})
    locations = _send_events(target.base_url)
    log = tmp_path / "consume.log"

    cut_off = 0
    for _ in range(KILL_ATTEMPTS):
        done_before = _applied_done(target.data_dir)
        consumer = _start_consumer(target, queue_options, log)
        deadline_s = time.monotonic() + WAIT_S
        while _applied_done(target.data_dir) == done_before and time.monotonic() < deadline_s:
            time.sleep(POLL_INTERVAL_S)
        os.kill(consumer.pid, signal.SIGKILL)
        consumer.wait(WAIT_S)
        cut_off = _claimed_unfinished(target, queue_options)
        if cut_off or _applied_done(target.data_dir) == EVENTS:
            break
    assert cut_off > 0, "no consumer was killed while it held claimed events"
    assert _applied_done(target.data_dir) < EVENTS

    consumer = _start_consumer(target, queue_options, log)
    try:
        deadline_s = time.monotonic() + WAIT_S
        while _applied_done(target.data_dir) < EVENTS and time.monotonic() < deadline_s:
            time.sleep(0.05)
    finally:
        consumer.send_signal(signal.SIGTERM)
        assert consumer.wait(WAIT_S) == 0, log.read_text()

    assert _applied_done(target.data_dir) == EVENTS
    with httpx.Client(base_url=target.base_url, timeout=10.0) as client:
        counted = sum(
            client.get(f"/users/{user_id}").json()["events"] for user_id in range(1, USERS + 1)
        )
        assert counted == EVENTS
        statuses = {client.get(location).json()["status"] for location in locations}
    assert statuses == {"done"}
    if not queue_options:
        assert _outbox_counts(target.data_dir) == {"done": EVENTS}
