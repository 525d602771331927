"""PostgreSQL shard pools: cancelled and timed-out calls return their connection.

Also: statements are prepared once per connection, and DSN passwords never show.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from asyncpg.pool import PoolConnectionProxy

from targets.errors import ShardUnavailableError, StorageError
from targets.routing.keyspace import Keyspace
from targets.storage.directory import redact_dsn
from targets.storage.postgres import PostgresStore, open_postgres_store
from targets.storage.records import User

POOL_SIZE = 2
WAIT_S = 10.0


@pytest.fixture
async def store(postgres_database: str) -> AsyncIterator[PostgresStore]:
    opened = await open_postgres_store(
        postgres_database, Keyspace(1), pool_size=POOL_SIZE, timeout_s=2.0
    )
    yield opened
    await opened.close()


async def _wait_until_idle(store: PostgresStore, idle: int) -> None:
    pool = store.pool(0)
    async with asyncio.timeout(WAIT_S):
        while pool.get_idle_size() != idle:
            await asyncio.sleep(0.01)


async def test_cancelled_query_returns_slot(store: PostgresStore) -> None:
    pool = store.pool(0)
    started = asyncio.Event()

    async def sleep_on_server(connection: PoolConnectionProxy) -> None:
        started.set()
        await connection.execute("SELECT pg_sleep(30)")

    task = asyncio.create_task(store.run(0, sleep_on_server))
    async with asyncio.timeout(WAIT_S):
        await started.wait()
    assert pool.get_idle_size() == pool.get_size() - 1

    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    await _wait_until_idle(store, pool.get_size())
    rows = await asyncio.gather(
        *(store.run(0, lambda connection: connection.fetchval("SELECT 1")) for _ in range(4))
    )
    assert rows == [1, 1, 1, 1]


async def test_timed_out_query_returns_slot(postgres_database: str) -> None:
    store = await open_postgres_store(
        postgres_database, Keyspace(1), pool_size=POOL_SIZE, timeout_s=0.2
    )
    try:
        with pytest.raises(ShardUnavailableError, match=r"shard 0 is unavailable: timed out"):
            await store.run(0, lambda connection: connection.execute("SELECT pg_sleep(30)"))
        await _wait_until_idle(store, store.pool(0).get_size())
    finally:
        await store.close()


async def test_breaker_fails_fast_then_closes(postgres_database: str) -> None:
    store = await open_postgres_store(
        postgres_database, Keyspace(1), pool_size=POOL_SIZE, timeout_s=0.2
    )
    try:
        with pytest.raises(ShardUnavailableError):
            await store.run(0, lambda connection: connection.execute("SELECT pg_sleep(30)"))
        with pytest.raises(ShardUnavailableError, match="failing fast after: timed out"):
            await store.read_user(1)
        async with asyncio.timeout(WAIT_S):
            while True:
                try:
                    assert await store.read_user(1) is None
                    break
                except ShardUnavailableError:
                    await asyncio.sleep(0.05)
    finally:
        await store.close()


async def test_statements_prepared_once(store: PostgresStore) -> None:
    await store.insert_user(User(1, "Ann", "eu"))
    for _ in range(3):
        await store.read_user(1)

    async def prepared(connection: PoolConnectionProxy) -> list[str]:
        rows = await connection.fetch("SELECT statement FROM pg_prepared_statements")
        return [row[0] for row in rows]

    statements: list[str] = []
    for _ in range(POOL_SIZE):
        statements += await store.run(0, prepared)
    reads = [text for text in statements if text.startswith("SELECT id, name, region, events")]
    assert 1 <= len(reads) <= POOL_SIZE


async def test_closed_store_rejects_calls(store: PostgresStore) -> None:
    await store.close()
    with pytest.raises(StorageError, match="the PostgreSQL shards are closed"):
        await store.read_user(1)


@pytest.mark.parametrize(
    ("dsn", "redacted"),
    [
        ("postgresql://bob:s3cret@db:5432/app", "postgresql://bob:***@db:5432/app"),
        ("postgresql://bob@db/app", "postgresql://bob@db/app"),
        ("postgresql://a:x@h1/d,postgresql://b:y@h2/d", "postgresql://a:***@h1/d,postgresql://b:***@h2/d"),
    ],
    ids=["password", "no-password", "list"],
)  # fmt: skip
def test_dsn_password_redacted(dsn: str, redacted: str) -> None:
    assert redact_dsn(dsn) == redacted
