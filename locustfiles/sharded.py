"""Locust users for the sharded endpoints: writes, single-shard reads and scatter-gather.

Each user creates users (`POST /users`), reads back ones it created
(`GET /users/{id}`, one shard), and lists a region (`GET /users?region=`, every
shard at once). The mix is set by environment variables, read once when Locust
imports this file, so a run sets it without editing code:

    PERFGATE_SHARDED_MIX     task weights, default "write=1,read=8,scatter=1"
    PERFGATE_REGIONS         regions to spread users over, default "eu,us,ap"
    PERFGATE_SCATTER_LIMIT   `limit` of each scatter-gather request, default 50

For example, a write-heavy run of the sharded profile:

    PERFGATE_SHARDED_MIX="write=6,read=3,scatter=1" perfgate run --profile sharded

A scatter-gather response with `partial: true` counts as a failure, so a shard that
times out shows in the failure ratio instead of as a fast success.
"""

from __future__ import annotations

import os
import random
from collections.abc import Callable
from typing import Any

from locust import FastHttpUser, TaskSet, constant_throughput

TASKS_PER_USER_PER_S = 50.0
MAX_KNOWN_IDS = 1000
"""Ids each Locust user keeps for reads; older ones are replaced at random."""

DEFAULT_MIX = "write=1,read=8,scatter=1"
TASK_NAMES = ("write", "read", "scatter")


def parse_mix(text: str) -> dict[str, int]:
    """Parse `name=weight` pairs separated by commas into task weights.

    Raises:
        ValueError: an unknown task name, or a weight that is not a whole number >= 0,
            or no weight above 0.
    """
    weights = dict.fromkeys(TASK_NAMES, 0)
    for item in text.split(","):
        name, _, weight = item.strip().partition("=")
        if name not in weights:
            raise ValueError(
                f"PERFGATE_SHARDED_MIX: unknown task {name!r}: expected {', '.join(TASK_NAMES)}"
            )
        if not weight.isdecimal():
            raise ValueError(f"PERFGATE_SHARDED_MIX: weight of {name!r} must be a whole number")
        weights[name] = int(weight)
    if not any(weights.values()):
        raise ValueError("PERFGATE_SHARDED_MIX: at least one weight must be above 0")
    return weights


MIX = parse_mix(os.environ.get("PERFGATE_SHARDED_MIX", DEFAULT_MIX))
REGIONS = [
    region.strip()
    for region in os.environ.get("PERFGATE_REGIONS", "eu,us,ap").split(",")
    if region.strip()
]
SCATTER_LIMIT = int(os.environ.get("PERFGATE_SCATTER_LIMIT", "50"))


class ShardedUser(FastHttpUser):
    """A client that writes users, reads them back and lists regions, in the configured mix."""

    wait_time = constant_throughput(TASKS_PER_USER_PER_S)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.known_ids: list[int] = []

    def write(self) -> None:
        """POST /users: one write to the shard the new id routes to."""
        body = {"name": "load test", "region": random.choice(REGIONS)}
        with self.client.post("/users", json=body, name="/users", catch_response=True) as response:
            if response.status_code != 201:
                response.failure(f"POST /users: HTTP {response.status_code}")
                return
            self._remember(int(response.json()["id"]))

    def read(self) -> None:
        """GET /users/{id}: a point read on exactly one shard."""
        if not self.known_ids:
            self.write()
            return
        user_id = random.choice(self.known_ids)
        with self.client.get(
            f"/users/{user_id}", name="/users/{id}", catch_response=True
        ) as response:
            if response.status_code != 200:
                response.failure(f"GET /users/{{id}}: HTTP {response.status_code}")

    def scatter(self) -> None:
        """GET /users?region=: every shard queried at once and the results merged."""
        path = f"/users?region={random.choice(REGIONS)}&limit={SCATTER_LIMIT}"
        with self.client.get(path, name="/users?region", catch_response=True) as response:
            if response.status_code != 200:
                response.failure(f"GET /users?region: HTTP {response.status_code}")
            elif response.json().get("partial"):
                response.failure("GET /users?region: partial response, a shard timed out")

    def _remember(self, user_id: int) -> None:
        if len(self.known_ids) < MAX_KNOWN_IDS:
            self.known_ids.append(user_id)
        else:
            self.known_ids[random.randrange(MAX_KNOWN_IDS)] = user_id


def _weighted_tasks() -> list[TaskSet | Callable[..., Any]]:
    functions = {
        "write": ShardedUser.write,
        "read": ShardedUser.read,
        "scatter": ShardedUser.scatter,
    }
    return [functions[name] for name in TASK_NAMES for _ in range(MIX[name])]


ShardedUser.tasks = _weighted_tasks()
