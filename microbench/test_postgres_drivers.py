"""PostgreSQL drivers: asyncpg against psycopg 3 (async), with and without prepared statements.

The benchmarks run against the real server at `PERFGATE_PG_URL` (default
postgresql://root@127.0.0.1:5432/postgres). Each driver gets its own connection and a
TEMPORARY table of 10,000 World rows, so nothing outlives the connection and nothing
is shared with other users of the server. One round is 100 point reads by primary key.

"Prepared" means the statement is parsed and planned once and then only executed:
asyncpg's `Connection.prepare`, psycopg's `prepare=True`. "Unprepared" means every
query is sent as text: psycopg's `prepare=False`, and asyncpg with its statement cache
switched off, so it parses each query again (asyncpg has no plain-text query path for
queries with parameters).

When the server is unreachable the benchmarks are skipped with the reason, unless
`PERFGATE_REQUIRE_SERVICES=1`, which turns the skip into a failure.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable, Iterator
from typing import NoReturn

import asyncpg
import psycopg
import pytest
from pytest_benchmark.fixture import BenchmarkFixture

DEFAULT_PG_URL = "postgresql://root@127.0.0.1:5432/postgres"
ROWS = 10_000
READS_PER_ROUND = 100
CONNECT_TIMEOUT_S = 5.0
ROUND_TIMEOUT_S = 30.0

CREATE_TABLE = "CREATE TEMPORARY TABLE world (id integer PRIMARY KEY, randomnumber integer)"
FILL_TABLE = (
    "INSERT INTO world SELECT i, (i * 7919) % 10000 + 1 FROM generate_series(1, 10000) AS i"
)
READ_ASYNCPG = "SELECT id, randomnumber FROM world WHERE id = $1"
READ_PSYCOPG = "SELECT id, randomnumber FROM world WHERE id = %s"

KEYS = [1 + (index * 7877) % ROWS for index in range(READS_PER_ROUND)]

ReadRound = Callable[[], Awaitable[int]]


def _pg_url() -> str:
    return os.environ.get("PERFGATE_PG_URL", DEFAULT_PG_URL)


def _unreachable(reason: str) -> NoReturn:
    message = f"PostgreSQL at {_pg_url()!r} is unreachable: {reason}"
    if os.environ.get("PERFGATE_REQUIRE_SERVICES") == "1":
        pytest.fail(f"{message} (PERFGATE_REQUIRE_SERVICES=1 requires it)")
    pytest.skip(f"{message}; start it or set PERFGATE_PG_URL")


@pytest.fixture
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    """A fresh asyncio loop, closed after the test."""
    event_loop = asyncio.new_event_loop()
    yield event_loop
    event_loop.close()


async def _open_asyncpg(cache: bool) -> asyncpg.Connection:
    connection = await asyncpg.connect(
        _pg_url(), timeout=CONNECT_TIMEOUT_S, statement_cache_size=100 if cache else 0
    )
    await connection.execute(CREATE_TABLE)
    await connection.execute(FILL_TABLE)
    return connection


async def _open_psycopg() -> psycopg.AsyncConnection[tuple[int, int]]:
    connection: psycopg.AsyncConnection[tuple[int, int]] = await psycopg.AsyncConnection.connect(
        _pg_url(), autocommit=True, connect_timeout=int(CONNECT_TIMEOUT_S)
    )
    await connection.execute(CREATE_TABLE)
    await connection.execute(FILL_TABLE)
    return connection


def _connect(loop: asyncio.AbstractEventLoop, opener: Awaitable[object]) -> object:
    try:
        return loop.run_until_complete(asyncio.wait_for(opener, CONNECT_TIMEOUT_S * 2))
    except (OSError, TimeoutError, asyncpg.PostgresError, psycopg.OperationalError) as exc:
        _unreachable(f"{type(exc).__name__}: {exc}")


def _run_rounds(
    benchmark: BenchmarkFixture, loop: asyncio.AbstractEventLoop, read_round: ReadRound
) -> None:
    async def bounded() -> int:
        return await asyncio.wait_for(read_round(), ROUND_TIMEOUT_S)

    found = benchmark(lambda: loop.run_until_complete(bounded()))
    assert found == READS_PER_ROUND
    benchmark.extra_info["reads_per_round"] = READS_PER_ROUND


@pytest.mark.parametrize("prepared", [False, True], ids=["unprepared", "prepared"])
def test_asyncpg_point_reads(
    benchmark: BenchmarkFixture, loop: asyncio.AbstractEventLoop, prepared: bool
) -> None:
    """Read 100 rows by primary key with asyncpg."""
    connection = _connect(loop, _open_asyncpg(cache=prepared))
    assert isinstance(connection, asyncpg.Connection)
    try:
        statement = loop.run_until_complete(connection.prepare(READ_ASYNCPG)) if prepared else None

        async def read_round() -> int:
            found = 0
            for key in KEYS:
                if statement is not None:
                    row = await statement.fetchrow(key)
                else:
                    row = await connection.fetchrow(READ_ASYNCPG, key)
                found += row is not None
            return found

        _run_rounds(benchmark, loop, read_round)
    finally:
        loop.run_until_complete(asyncio.wait_for(connection.close(), CONNECT_TIMEOUT_S))


@pytest.mark.parametrize("prepared", [False, True], ids=["unprepared", "prepared"])
def test_psycopg_point_reads(
    benchmark: BenchmarkFixture, loop: asyncio.AbstractEventLoop, prepared: bool
) -> None:
    """Read 100 rows by primary key with psycopg 3's AsyncConnection."""
    connection = _connect(loop, _open_psycopg())
    assert isinstance(connection, psycopg.AsyncConnection)
    try:

        async def read_round() -> int:
            found = 0
            async with connection.cursor() as cursor:
                for key in KEYS:
                    await cursor.execute(READ_PSYCOPG, (key,), prepare=prepared)
                    found += await cursor.fetchone() is not None
            return found

        _run_rounds(benchmark, loop, read_round)
    finally:
        loop.run_until_complete(asyncio.wait_for(connection.close(), CONNECT_TIMEOUT_S))
