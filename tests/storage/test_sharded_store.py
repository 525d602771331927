"""The sharded store contract, on the in-memory fake, SQLite files and PostgreSQL."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from targets.errors import DuplicateKeyError
from targets.routing.keyspace import Keyspace
from targets.storage.memory_sharded import MemoryShardedStore
from targets.storage.records import Event, EventStatus, User, new_event_id
from targets.storage.sharded import ShardedStore
from targets.storage.sqlite import init_shards
from targets.storage.sqlite.users import SqliteShardedStore

SHARDS = 4


@pytest.fixture(params=["memory", "sqlite", "postgresql"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[ShardedStore]:
    keyspace = Keyspace(SHARDS, "jump")
    opened: ShardedStore
    if request.param == "memory":
        opened = MemoryShardedStore(keyspace)
    elif request.param == "sqlite":
        paths = init_shards(tmp_path / "data", SHARDS, keyspace)
        opened = await SqliteShardedStore.open(paths, keyspace)
    else:
        from targets.storage.postgres import open_postgres_store

        # One database whose schemas hold the shards: quicker to create than one per shard.
        database = request.getfixturevalue("postgres_database")
        opened = await open_postgres_store(database, keyspace, pool_size=4)
    yield opened
    await opened.close()


def _event(user_id: int, kind: str = "click") -> Event:
    return Event(new_event_id(user_id), kind, user_id, '{"kind":"click"}', time.time())


async def test_user_round_trip(store: ShardedStore) -> None:
    shard = await store.insert_user(User(42, "Ann", "eu"))
    assert shard == store.keyspace.shard_for_id(42)
    assert await store.read_user(42) == User(42, "Ann", "eu", 0)


async def test_missing_user_is_none(store: ShardedStore) -> None:
    assert await store.read_user(7) is None


async def test_duplicate_user_rejected(store: ShardedStore) -> None:
    await store.insert_user(User(5, "Ann", "eu"))
    with pytest.raises(DuplicateKeyError, match="user 5 exists already"):
        await store.insert_user(User(5, "Bob", "us"))


async def test_concurrent_inserts_all_stored(store: ShardedStore) -> None:
    users = [User(user_id, f"user {user_id}", "eu") for user_id in range(1, 201)]
    await asyncio.gather(*(store.insert_user(user) for user in users))
    found = [await store.read_user(user.id) for user in users]
    assert found == users


async def test_list_users_filters_and_orders(store: ShardedStore) -> None:
    for user_id in (9, 3, 7, 1, 5):
        await store.insert_user(User(user_id, "x", "eu" if user_id != 5 else "us"))
    listed: list[int] = []
    for shard in range(SHARDS):
        ids = [user.id for user in await store.list_users(shard, "eu", 10)]
        assert ids == sorted(ids)
        listed.extend(ids)
    assert sorted(listed) == [1, 3, 7, 9]


async def test_event_applied_once(store: ShardedStore) -> None:
    await store.insert_user(User(11, "Ann", "eu"))
    event = _event(11)
    await store.add_event(event)
    assert await store.read_event_status(event.id, 11) is EventStatus.QUEUED

    assert await store.apply_event(event) is EventStatus.DONE
    assert await store.apply_event(event) is EventStatus.DONE
    user = await store.read_user(11)
    assert user is not None
    assert user.events == 1
    assert await store.read_event_status(event.id, 11) is EventStatus.DONE
    assert await store.count_applied() == {"done": 1}


async def test_event_for_missing_user_fails(store: ShardedStore) -> None:
    event = _event(12)
    await store.add_event(event)
    assert await store.apply_event(event) is EventStatus.FAILED
    assert await store.read_event_status(event.id, 12) is EventStatus.FAILED


async def test_claims_oldest_first_then_nothing(store: ShardedStore) -> None:
    events = [_event(13, kind=f"k{index}") for index in range(5)]
    for event in events:
        await store.add_event(event)
    shard = store.keyspace.shard_for_id(13)

    first = await store.claim_events(shard, 3, lease_s=60.0)
    second = await store.claim_events(shard, 10, lease_s=60.0)
    assert [event.id for event in first + second] == [event.id for event in events]
    assert await store.claim_events(shard, 10, lease_s=60.0) == []
    assert await store.read_event_status(events[0].id, 13) is EventStatus.PROCESSING
    count, oldest = await store.outbox_backlog(shard)
    assert count == 5
    assert oldest == pytest.approx(events[0].enqueued_at)


async def test_expired_claim_resumed(store: ShardedStore) -> None:
    await store.insert_user(User(14, "Ann", "eu"))
    event = _event(14)
    await store.add_event(event)
    shard = store.keyspace.shard_for_id(14)
    assert len(await store.claim_events(shard, 10, lease_s=60.0)) == 1

    assert await store.claim_events(shard, 10, lease_s=0.0) == [event]
    assert await store.apply_event(event) is EventStatus.DONE
    assert await store.claim_events(shard, 10, lease_s=0.0) == []
    assert await store.outbox_backlog(shard) == (0, None)
