"""Locust users for the reference API's six TechEmpower endpoints.

Each request is named by its route (`/queries`), never by a URL with its query
string, so all `queries=N` variants land in one statistics entry per route. Every
response is checked for its status and a fragment of its body; a wrong answer counts
as a failure with a message that names the route and what differed.

Run it through perfgate (`perfgate run --profile smoke`) or plain Locust
(`locust -f locustfiles/api.py --host http://127.0.0.1:8080`).
"""

from __future__ import annotations

import random

from locust import FastHttpUser, constant_throughput, task

QUERIES_PER_REQUEST = 20
TASKS_PER_USER_PER_S = 50.0


class ApiUser(FastHttpUser):
    """A client that spreads its requests over all six endpoints with fixed weights.

    Each user runs at most `TASKS_PER_USER_PER_S` tasks per second, so the offered load
    is set by the profile's user count rather than by how fast the generator can loop.
    """

    wait_time = constant_throughput(TASKS_PER_USER_PER_S)

    def _check(self, route: str, path: str, expected_fragment: bytes) -> None:
        with self.client.get(path, name=route, catch_response=True) as response:
            if response.status_code != 200:
                response.failure(f"{route}: HTTP {response.status_code}")
            elif expected_fragment not in (response.content or b""):
                response.failure(f"{route}: body lacks {expected_fragment!r}")

    @task(4)
    def get_json(self) -> None:
        """GET /json: serialization only."""
        self._check("/json", "/json", b'"message":"Hello, World!"')

    @task(4)
    def get_plaintext(self) -> None:
        """GET /plaintext: the server's request-handling floor."""
        self._check("/plaintext", "/plaintext", b"Hello, World!")

    @task(4)
    def get_db(self) -> None:
        """GET /db: one point read from one shard."""
        self._check("/db", "/db", b'"randomNumber":')

    @task(2)
    def get_queries(self) -> None:
        """GET /queries: N independent point reads across shards."""
        count = random.randint(1, QUERIES_PER_REQUEST)
        self._check("/queries", f"/queries?queries={count}", b'"randomNumber":')

    @task(1)
    def get_updates(self) -> None:
        """GET /updates: N reads, each followed by a write of a new random number."""
        count = random.randint(1, QUERIES_PER_REQUEST)
        self._check("/updates", f"/updates?queries={count}", b'"randomNumber":')

    @task(2)
    def get_fortunes(self) -> None:
        """GET /fortunes: all rows, sorted and HTML-escaped in the application."""
        self._check("/fortunes", "/fortunes", b"Additional fortune added at request time.")
