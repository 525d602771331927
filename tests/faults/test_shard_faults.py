"""A PostgreSQL shard that stalls or dies: its keys fail fast, others serve, and it recovers.

Shard 3 of the target is reached through a loopback TCP proxy, which the test pauses
(a stalled shard) or cuts (a dead one). The PostgreSQL server itself is never touched.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest

from targets.routing.keyspace import Keyspace
from tests.support.services import with_database
from tests.support.tcp_proxy import TcpProxy, running_proxy

if TYPE_CHECKING:
    from tests.support.services import DatabaseFactory
    from tests.targets.conftest import StartTarget, TargetProcess

SHARDS = 4
FAULTY_SHARD = 3
TIMEOUT_MS = 300
RECOVERY_TIMEOUT_S = 15.0
POLL_INTERVAL_S = 0.05


def _through(proxy: TcpProxy, url: str) -> str:
    parts = urlsplit(url)
    user = f"{parts.username}@" if parts.username else ""
    netloc = f"{user}127.0.0.1:{proxy.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, ""))


def _user_ids_by_shard(first: int = 1) -> dict[int, int]:
    """Return the smallest id from `first` on that routes to each shard."""
    keyspace = Keyspace(SHARDS)
    ids: dict[int, int] = {}
    for key in range(first, first + 1000):
        ids.setdefault(keyspace.shard_for_id(key), key)
    return ids


@pytest.fixture
def proxy(postgres_url: str) -> Iterator[TcpProxy]:
    parts = urlsplit(postgres_url)
    with running_proxy(parts.hostname or "127.0.0.1", parts.port or 5432) as started:
        yield started


@pytest.fixture
def target(
    start_target: StartTarget,
    postgres_url: str,
    postgres_prefix: DatabaseFactory,
    proxy: TcpProxy,
) -> TargetProcess:
    prefix = postgres_prefix()
    dsns = [with_database(postgres_url, f"{prefix}_{shard}") for shard in range(SHARDS)]
    dsns[FAULTY_SHARD] = _through(proxy, dsns[FAULTY_SHARD])
    options = ["--shards", str(SHARDS), "--db", ",".join(dsns), "--pool-size", "2"]
    options += ["--shard-timeout-ms", str(TIMEOUT_MS), "--consumers", "0"]
    return start_target("target", *options)


def _timed_get(client: httpx.Client, path: str) -> tuple[httpx.Response, float]:
    start_s = time.perf_counter()
    response = client.get(path)
    return response, time.perf_counter() - start_s


def _wait_until_served(client: httpx.Client, path: str) -> float:
    """Poll `path` until it returns 200; return how long that took."""
    start_s = time.monotonic()
    while time.monotonic() - start_s < RECOVERY_TIMEOUT_S:
        if client.get(path).status_code == 200:
            return time.monotonic() - start_s
        time.sleep(POLL_INTERVAL_S)
    pytest.fail(f"{path} still failing {RECOVERY_TIMEOUT_S} s after the shard returned")


@pytest.mark.parametrize("fault", ["pause", "cut"])
def test_faulty_shard_fails_fast_and_recovers(
    target: TargetProcess, proxy: TcpProxy, fault: str
) -> None:
    ids = _user_ids_by_shard()
    with httpx.Client(base_url=target.base_url, timeout=10.0) as client:
        for shard, user_id in ids.items():
            created = client.post("/users", json={"id": user_id, "name": "u", "region": "eu"})
            assert created.json() == {"id": user_id, "shard": shard}

        getattr(proxy, fault)()
        faulty_path = f"/users/{ids[FAULTY_SHARD]}"

        first, first_s = _timed_get(client, faulty_path)
        assert first.status_code == 503
        assert first.headers["Retry-After"] == "1"
        assert first_s < 3 * TIMEOUT_MS / 1000 + 0.5

        again, again_s = _timed_get(client, faulty_path)
        assert again.status_code == 503
        assert again_s < TIMEOUT_MS / 1000

        new_id = _user_ids_by_shard(first=10_000)[FAULTY_SHARD]
        write = client.post("/users", json={"id": new_id, "name": "x", "region": "eu"})
        assert write.status_code == 503

        for shard, user_id in ids.items():
            if shard != FAULTY_SHARD:
                assert client.get(f"/users/{user_id}").status_code == 200

        gathered = client.get("/users", params={"region": "eu"}).json()
        assert gathered["partial"] is True
        assert {user["id"] for user in gathered["users"]} == {
            user_id for shard, user_id in ids.items() if shard != FAULTY_SHARD
        }

        proxy.restore()
        _wait_until_served(client, faulty_path)
        recovered = client.get("/users", params={"region": "eu"}).json()
        assert recovered["partial"] is False
        assert {user["id"] for user in recovered["users"]} == set(ids.values())
