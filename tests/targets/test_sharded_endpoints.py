"""The sharded endpoints over real HTTP: users, scatter-gather, events and metrics.

Each test starts `perfgate serve` on SQLite files, on PostgreSQL databases, and
for the queue tests with the outbox and with Redis Streams.
"""

from __future__ import annotations

import random
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest

from targets.routing.keyspace import Keyspace

if TYPE_CHECKING:
    from tests.support.services import DatabaseFactory
    from tests.targets.conftest import StartTarget, TargetProcess

SHARDS = 4
POLL_TIMEOUT_S = 20.0
POLL_INTERVAL_S = 0.02


@pytest.fixture(params=["sqlite", "postgresql"])
def db_options(request: pytest.FixtureRequest) -> list[str]:
    """Serve options for each storage backend; PostgreSQL gets fresh databases."""
    if request.param == "sqlite":
        return ["--shards", str(SHARDS)]
    template = request.getfixturevalue("postgres_template")
    return ["--shards", str(SHARDS), "--db", template, "--pool-size", "4"]


@pytest.fixture(params=["outbox", "redis"])
def queue_options(request: pytest.FixtureRequest) -> list[str]:
    """Serve options for each queue; Redis gets a stream name of its own."""
    if request.param == "outbox":
        return []
    redis_url = request.getfixturevalue("redis_url")
    return ["--queue", redis_url, "--queue-name", request.getfixturevalue("queue_name")]


def _client(target: TargetProcess) -> httpx.Client:
    return httpx.Client(base_url=target.base_url, timeout=10.0)


def _poll_status(client: httpx.Client, location: str, expected: str) -> str:
    """Read an event's status until it is `expected` or the bounded wait ends."""
    deadline_s = time.monotonic() + POLL_TIMEOUT_S
    status = ""
    while time.monotonic() < deadline_s:
        status = client.get(location).json()["status"]
        if status == expected:
            break
        time.sleep(POLL_INTERVAL_S)
    return status


def test_user_written_and_read(start_target: StartTarget, db_options: list[str]) -> None:
    with _client(start_target("target", *db_options)) as client:
        created = client.post("/users", json={"id": 42, "name": "Ann", "region": "eu"})
        assert created.status_code == 201
        assert created.json() == {"id": 42, "shard": Keyspace(SHARDS).shard_for_id(42)}
        assert created.headers["Location"] == "/users/42"

        read = client.get("/users/42")
        assert read.status_code == 200
        assert read.json() == {"id": 42, "name": "Ann", "region": "eu", "events": 0}


def test_user_id_assigned(start_target: StartTarget, db_options: list[str]) -> None:
    with _client(start_target("target", *db_options)) as client:
        created = client.post("/users", json={"name": "Bob", "region": "us"})
        assert created.status_code == 201
        user_id = created.json()["id"]
        assert created.json()["shard"] == Keyspace(SHARDS).shard_for_id(user_id)
        assert client.get(f"/users/{user_id}").json()["name"] == "Bob"


@pytest.mark.parametrize(
    "path",
    ["/users/7", "/users/abc", "/users/0", "/users/99999999999999999999"],
    ids=["absent", "not-a-number", "zero", "too-large"],
)
def test_user_not_found(start_target: StartTarget, path: str) -> None:
    with _client(start_target()) as client:
        assert client.get(path).status_code == 404


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        (b"", 400, "request body is empty"),
        (b"{", 400, "not valid JSON"),
        (b'{"name": "Ann"}', 422, "missing required field `region`"),
        (b'{"name": "Ann", "region": "eu", "id": "7"}', 422, "at `$.id`"),
        (b'{"name": "Ann", "region": "eu", "id": -1}', 422, "at `$.id`"),
        (b'{"name": "Ann", "region": "e u"}', 422, "at `$.region`"),
        (b'{"name": "Ann", "region": "eu", "extra": 1}', 422, "unknown field `extra`"),
    ],
    ids=["empty", "truncated", "no-region", "string-id", "negative-id", "bad-region", "extra"],
)
def test_invalid_user_rejected(
    start_target: StartTarget, body: bytes, status: int, message: str
) -> None:
    with _client(start_target()) as client:
        response = client.post("/users", content=body)
        assert response.status_code == status
        assert message in response.json()["error"]


def test_duplicate_user_conflicts(start_target: StartTarget, db_options: list[str]) -> None:
    with _client(start_target("target", *db_options)) as client:
        assert client.post("/users", json={"id": 5, "name": "A", "region": "eu"}).status_code == 201
        duplicate = client.post("/users", json={"id": 5, "name": "B", "region": "eu"})
        assert duplicate.status_code == 409
        assert duplicate.json() == {"error": "user 5 exists already"}


def test_placement_keeps_regions_on_groups(start_target: StartTarget) -> None:
    placement = "eu=0,1;us=2,3"
    target = start_target("target", "--shards", "4", "--placement", placement)
    with _client(target) as client:
        for _ in range(20):
            assert client.post("/users", json={"name": "A", "region": "eu"}).json()["shard"] < 2
            assert client.post("/users", json={"name": "B", "region": "us"}).json()["shard"] >= 2
        unknown = client.post("/users", json={"name": "C", "region": "mars"})
        assert unknown.status_code == 422
        assert unknown.json() == {"error": "unknown region 'mars': expected one of eu, us"}
        wrong_group = client.post("/users", json={"id": 2, "name": "D", "region": "us"})
        assert wrong_group.status_code == 422


def test_scatter_gather_equals_unsharded(start_target: StartTarget, db_options: list[str]) -> None:
    rng = random.Random(3)
    users = [
        {"id": user_id, "name": f"user {user_id}", "region": rng.choice(["eu", "us", "ap"])}
        for user_id in rng.sample(range(1, 10**12), 150)
    ]
    with _client(start_target("target", *db_options)) as client:
        for user in users:
            assert client.post("/users", json=user).status_code == 201

        for region in ("eu", "us", "ap", "none"):
            for limit in (1, 7, 40, 1000):
                response = client.get("/users", params={"region": region, "limit": limit})
                body = response.json()
                expected = sorted((u for u in users if u["region"] == region), key=_id)[:limit]
                assert [{**u, "events": 0} for u in expected] == body["users"], (region, limit)
                assert body["partial"] is False
                assert sorted(body["shards"]) == [str(shard) for shard in range(SHARDS)]


@pytest.mark.parametrize(
    "query",
    ["", "region=e%20u", "region=eu&limit=0", "region=eu&limit=1001", "region=eu&limit=x"],
    ids=["no-region", "bad-region", "zero", "over-max", "not-a-number"],
)
def test_invalid_list_query_rejected(start_target: StartTarget, query: str) -> None:
    with _client(start_target()) as client:
        assert client.get(f"/users?{query}").status_code == 400


def test_event_processed_once(
    start_target: StartTarget, db_options: list[str], queue_options: list[str]
) -> None:
    with _client(start_target("target", *db_options, *queue_options)) as client:
        client.post("/users", json={"id": 77, "name": "Ann", "region": "eu"})
        locations = []
        for index in range(10):
            accepted = client.post("/events", json={"kind": "click", "user_id": 77, "n": index})
            assert accepted.status_code == 202
            assert accepted.headers["Location"] == f"/events/{accepted.json()['id']}"
            locations.append(accepted.headers["Location"])

        for location in locations:
            assert _poll_status(client, location, "done") == "done"
        assert client.get("/users/77").json()["events"] == 10


def test_event_for_missing_user_fails(start_target: StartTarget, queue_options: list[str]) -> None:
    with _client(start_target("target", *queue_options)) as client:
        accepted = client.post("/events", json={"kind": "click", "user_id": 404})
        assert accepted.status_code == 202
        assert _poll_status(client, accepted.headers["Location"], "failed") == "failed"


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (b'{"kind": "click"}', 422),
        (b'{"kind": "", "user_id": 1}', 422),
        (b'{"kind": "click", "user_id": 0}', 422),
        (b"[]", 422),
        (b"not json", 400),
    ],
    ids=["no-user", "empty-kind", "zero-user", "array", "not-json"],
)
def test_invalid_event_rejected(start_target: StartTarget, body: bytes, status: int) -> None:
    with _client(start_target()) as client:
        assert client.post("/events", content=body).status_code == status


@pytest.mark.parametrize("path", ["/events/nope", "/events/1-0000000000000000"])
def test_unknown_event_not_found(start_target: StartTarget, path: str) -> None:
    with _client(start_target()) as client:
        assert client.get(path).status_code == 404


def test_full_queue_asks_to_retry(start_target: StartTarget, queue_options: list[str]) -> None:
    options = ["--consumers", "0", "--queue-max-depth", "3", *queue_options]
    with _client(start_target("target", *options)) as client:
        for _ in range(3):
            assert client.post("/events", json={"kind": "k", "user_id": 1}).status_code == 202
        rejected = client.post("/events", json={"kind": "k", "user_id": 1})
        assert rejected.status_code == 503
        assert rejected.headers["Retry-After"] == "1"
        assert "event queue contains 3 unprocessed events (limit 3)" in rejected.json()["error"]


def test_metrics_in_prometheus_format(start_target: StartTarget) -> None:
    with _client(start_target("target", "--consumers", "0")) as client:
        client.post("/users", json={"id": 3, "name": "Ann", "region": "eu"})
        client.get("/users/3")
        client.post("/events", json={"kind": "k", "user_id": 3})
        response = client.get("/metrics")
        assert response.status_code == 200
        assert response.headers["Content-Type"].startswith("text/plain; version=")
        text = response.text
        assert 'perfgate_requests_total{route="/users",status="201"} 1.0' in text
        assert 'perfgate_request_duration_seconds_count{route="/users/{id}"} 1.0' in text
        shard = Keyspace(SHARDS).shard_for_id(3)
        assert f'perfgate_shard_queries_total{{operation="read_user",shard="{shard}"}} 1.0' in text
        assert "perfgate_queue_depth 1.0" in text
        assert "perfgate_queue_lag_seconds" in text


def _id(user: dict[str, object]) -> int:
    value = user["id"]
    assert isinstance(value, int)
    return value


def test_dsn_password_never_logged(
    start_target: StartTarget, postgres_url: str, postgres_prefix: DatabaseFactory
) -> None:
    parts = urlsplit(postgres_url)
    # Trust authentication ignores the password, so the target connects with it.
    netloc = f"{parts.username or 'root'}:s3cret-pw@{parts.hostname}:{parts.port or 5432}"
    template = urlunsplit((parts.scheme, netloc, f"/{postgres_prefix()}_{{shard}}", "", ""))
    target = start_target("target", "--db", template, "--verbose")
    with _client(target) as client:
        assert client.get("/users/1").status_code == 404
    target.kill()
    log = target.log_text()
    assert "services open: db postgresql://" in log
    assert "s3cret-pw" not in log


def test_unreachable_dsn_error_hides_password(tmp_path: Path) -> None:
    dsn = "postgresql://bob:s3cret-pw@127.0.0.1:1/perfgate_{shard}"
    result = subprocess.run(
        [sys.executable, "-m", "perfgate", "db", "init", "--db", dsn, "--data-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "postgresql://bob:***@127.0.0.1:1/perfgate_0" in result.stderr
    assert "s3cret-pw" not in result.stderr + result.stdout


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--placement", "eu=0"], "shard 1 is in no group"),
        (["--router", "crc"], "unknown shard router 'crc'"),
        (["--db", "mysql://h/db"], "invalid --db 'mysql://h/db'"),
        (["--queue", "kafka://h"], "unknown queue 'kafka://h'"),
    ],
    ids=["placement", "router", "db", "queue"],
)
def test_invalid_serve_option_exits_2(tmp_path: Path, options: list[str], message: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "perfgate", "serve", "--port", "0", "--shards", "2",
         "--data-dir", str(tmp_path), *options],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )  # fmt: skip
    assert result.returncode == 2
    assert message in result.stderr
