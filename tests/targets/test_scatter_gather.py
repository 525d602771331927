"""Scatter-gather and point reads on a shard that is slow or down, with the in-memory store."""

from __future__ import annotations

import json
import random
from http import HTTPStatus

import pytest

from targets.app.metrics import Metrics
from targets.app.routes import Request
from targets.app.users import UserEndpoints
from targets.codecs import get_codec
from targets.routing.keyspace import Keyspace
from targets.storage.memory_sharded import MemoryShardedStore
from targets.storage.records import User

SHARDS = 8
TIMEOUT_S = 0.05


@pytest.fixture
def store() -> MemoryShardedStore:
    store = MemoryShardedStore(Keyspace(SHARDS, "rendezvous"))
    rng = random.Random(5)
    for user_id in rng.sample(range(1, 10**9), 400):
        shard = store.keyspace.shard_for_id(user_id)
        store.users[shard][user_id] = User(user_id, "n", rng.choice(["eu", "us"]))
    return store


@pytest.fixture
def endpoints(store: MemoryShardedStore) -> UserEndpoints:
    return UserEndpoints(get_codec("orjson"), store, Metrics(), TIMEOUT_S)


async def _list(endpoints: UserEndpoints, query: bytes) -> dict[str, object]:
    head, body = await endpoints.list_users(Request(b"GET", b"/users", query))
    assert head.status is HTTPStatus.OK
    decoded: dict[str, object] = json.loads(body)
    return decoded


def _ids(body: dict[str, object]) -> list[int]:
    users = body["users"]
    assert isinstance(users, list)
    return [user["id"] for user in users]


def _expected(store: MemoryShardedStore, region: str, limit: int, skip: int = -1) -> list[int]:
    ids = [
        user.id
        for shard, users in enumerate(store.users)
        if shard != skip
        for user in users.values()
        if user.region == region
    ]
    return sorted(ids)[:limit]


@pytest.mark.parametrize("limit", [1, 10, 150, 1000])
async def test_merge_equals_unsharded(
    endpoints: UserEndpoints, store: MemoryShardedStore, limit: int
) -> None:
    body = await _list(endpoints, b"region=eu&limit=%d" % limit)
    assert _ids(body) == _expected(store, "eu", limit)
    assert body["partial"] is False


async def test_slow_shard_makes_answer_partial(
    endpoints: UserEndpoints, store: MemoryShardedStore
) -> None:
    store.delays_s[3] = TIMEOUT_S * 20
    body = await _list(endpoints, b"region=us&limit=1000")
    assert body["partial"] is True
    assert _ids(body) == _expected(store, "us", 1000, skip=3)
    timings = body["shards"]
    assert isinstance(timings, dict)
    assert timings["3"] >= TIMEOUT_S * 1000
    assert timings["3"] < TIMEOUT_S * 1000 * 10


async def test_down_shard_makes_answer_partial(
    endpoints: UserEndpoints, store: MemoryShardedStore
) -> None:
    store.unavailable.add(0)
    body = await _list(endpoints, b"region=eu&limit=1000")
    assert body["partial"] is True
    assert _ids(body) == _expected(store, "eu", 1000, skip=0)


async def test_point_read_on_down_shard_is_503(
    endpoints: UserEndpoints, store: MemoryShardedStore
) -> None:
    user_id = next(iter(store.users[2]))
    store.unavailable.add(2)
    head, body = await endpoints.read_user(
        Request(b"GET", b"/users/x", b"", path_tail=b"%d" % user_id)
    )
    assert head.status is HTTPStatus.SERVICE_UNAVAILABLE
    assert (b"Retry-After", b"1") in head.headers
    assert json.loads(body) == {
        "error": "shard 2 is unavailable: marked unavailable by the test; retry later"
    }


async def test_point_read_on_slow_shard_times_out(
    endpoints: UserEndpoints, store: MemoryShardedStore
) -> None:
    user_id = next(iter(store.users[4]))
    store.delays_s[4] = TIMEOUT_S * 20
    head, _ = await endpoints.read_user(
        Request(b"GET", b"/users/x", b"", path_tail=b"%d" % user_id)
    )
    assert head.status is HTTPStatus.SERVICE_UNAVAILABLE


async def test_other_shards_serve_while_one_is_down(
    endpoints: UserEndpoints, store: MemoryShardedStore
) -> None:
    store.unavailable.add(2)
    user_id = next(iter(store.users[5]))
    head, _ = await endpoints.read_user(
        Request(b"GET", b"/users/x", b"", path_tail=b"%d" % user_id)
    )
    assert head.status is HTTPStatus.OK
