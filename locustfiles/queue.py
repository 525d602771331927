"""Locust users for the event queue: enqueue, then poll until processed.

Each flow posts one event (`POST /events`) and polls its `Location` until the status
is `done`. Two latencies are recorded under separate names:

- `POST /events`, by Locust itself: the acknowledgement latency, until 202.
- `QUEUE end-to-end`, fired here as a Locust request event: from just before the
  POST until the first poll that reads `done`. It includes up to one poll interval
  of waiting, so it overstates the processing latency by at most
  `PERFGATE_QUEUE_POLL_MS`.

The polls themselves are recorded as `GET /events/{id}`. Environment variables:

    PERFGATE_QUEUE_POLL_MS     wait between polls, default 10
    PERFGATE_QUEUE_TIMEOUT_S   give up and record a failure after, default 30
    PERFGATE_QUEUE_USERS       target users the events refer to, default 100

Each Locust user creates its share of target users on its first flow, so events
apply to users that exist.
"""

from __future__ import annotations

import os
import random
import time
from typing import Any

import gevent
from locust import FastHttpUser, constant_throughput, task

TASKS_PER_USER_PER_S = 20.0
POLL_INTERVAL_S = int(os.environ.get("PERFGATE_QUEUE_POLL_MS", "10")) / 1000.0
TIMEOUT_S = float(os.environ.get("PERFGATE_QUEUE_TIMEOUT_S", "30"))
TARGET_USERS = int(os.environ.get("PERFGATE_QUEUE_USERS", "100"))

END_TO_END_TYPE = "QUEUE"
END_TO_END_NAME = "end-to-end"


class QueueUser(FastHttpUser):
    """A client that enqueues events and waits for each one to be processed."""

    wait_time = constant_throughput(TASKS_PER_USER_PER_S)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user_ids: list[int] = []

    @task
    def enqueue_and_wait(self) -> None:
        """POST /events, then poll GET /events/{id} until done, failed or timed out."""
        if not self.user_ids:
            self._create_users()
        body = {"kind": "visit", "user_id": random.choice(self.user_ids)}
        start_s = time.perf_counter()
        with self.client.post(
            "/events", json=body, name="/events", catch_response=True
        ) as response:
            if response.status_code != 202:
                response.failure(f"POST /events: HTTP {response.status_code}")
                return
            location = response.headers["Location"]

        status = self._poll(location)
        elapsed_ms = (time.perf_counter() - start_s) * 1000.0
        error = None if status == "done" else RuntimeError(f"event ended {status}")
        self.environment.events.request.fire(
            request_type=END_TO_END_TYPE,
            name=END_TO_END_NAME,
            response_time=elapsed_ms,
            response_length=0,
            exception=error,
            context={},
        )

    def _poll(self, location: str) -> str:
        """Read the event's status until it ends or `TIMEOUT_S` passes; return the last one."""
        deadline_s = time.monotonic() + TIMEOUT_S
        status = "timed out"
        while time.monotonic() < deadline_s:
            with self.client.get(location, name="/events/{id}", catch_response=True) as response:
                if response.status_code != 200:
                    response.failure(f"GET /events/{{id}}: HTTP {response.status_code}")
                    return f"HTTP {response.status_code}"
                status = response.json()["status"]
            if status in ("done", "failed"):
                return str(status)
            gevent.sleep(POLL_INTERVAL_S)
        return "timed out"

    def _create_users(self) -> None:
        for _ in range(max(1, TARGET_USERS // 10)):
            body = {"name": "queue load", "region": "eu"}
            with self.client.post(
                "/users", json=body, name="/users", catch_response=True
            ) as response:
                if response.status_code == 201:
                    self.user_ids.append(int(response.json()["id"]))
                else:
                    response.failure(f"POST /users: HTTP {response.status_code}")
        if not self.user_ids:
            self.user_ids.append(1)
