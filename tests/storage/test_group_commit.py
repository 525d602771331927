"""The SQLite group-commit writer: batching, isolation of failures, durability setting."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from targets.errors import StorageError
from targets.storage.sqlite.layout import connect
from targets.storage.sqlite.writer import GroupCommitWriter, WriterState

WRITES = 200


@pytest.fixture
def database(tmp_path: Path) -> Path:
    path = tmp_path / "shard.sqlite3"
    connection = connect(path)
    connection.execute("CREATE TABLE item (id INTEGER PRIMARY KEY)")
    connection.close()
    return path


@pytest.fixture
async def writer(database: Path) -> AsyncIterator[GroupCommitWriter]:
    opened = GroupCommitWriter(database)
    yield opened
    await opened.close()


def _insert(item_id: int) -> Callable[[sqlite3.Connection], int]:
    def insert(connection: sqlite3.Connection) -> int:
        connection.execute("INSERT INTO item (id) VALUES (?)", (item_id,))
        return item_id

    return insert


def _count(path: Path) -> int:
    connection = connect(path)
    try:
        return int(connection.execute("SELECT count(*) FROM item").fetchone()[0])
    finally:
        connection.close()


async def test_concurrent_writes_share_commits(writer: GroupCommitWriter, database: Path) -> None:
    results = await asyncio.gather(*(writer.write(_insert(index)) for index in range(WRITES)))
    assert results == list(range(WRITES))
    assert writer.writes == WRITES
    assert writer.commits < WRITES // 4
    assert _count(database) == WRITES


async def test_batch_of_one_commits_each(database: Path) -> None:
    writer = GroupCommitWriter(database, max_batch=1)
    try:
        await asyncio.gather(*(writer.write(_insert(index)) for index in range(20)))
        assert writer.commits == 20
    finally:
        await writer.close()


async def test_failed_write_fails_alone(writer: GroupCommitWriter, database: Path) -> None:
    await writer.write(_insert(1))
    outcomes = await asyncio.gather(
        writer.write(_insert(2)),
        writer.write(_insert(1)),
        writer.write(_insert(3)),
        return_exceptions=True,
    )
    assert outcomes[0] == 2
    assert isinstance(outcomes[1], sqlite3.IntegrityError)
    assert outcomes[2] == 3
    assert _count(database) == 3


async def test_writer_syncs_every_commit(writer: GroupCommitWriter) -> None:
    def read_synchronous(connection: sqlite3.Connection) -> int:
        return int(connection.execute("PRAGMA synchronous").fetchone()[0])

    assert await writer.write(read_synchronous) == 2  # FULL


async def test_cancelled_caller_still_commits(writer: GroupCommitWriter, database: Path) -> None:
    task = asyncio.create_task(writer.write(_insert(9)))
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await writer.write(_insert(10))
    assert _count(database) == 2


async def test_closed_writer_rejects_writes(database: Path) -> None:
    writer = GroupCommitWriter(database)
    pending = writer.write(_insert(1))
    close = asyncio.create_task(writer.close())
    assert await pending == 1
    await close
    assert writer.state is WriterState.CLOSED
    with pytest.raises(StorageError, match=r"cannot write to .*: the writer is closed"):
        await writer.write(_insert(2))
