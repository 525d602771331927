"""The `aiosqlite` read path: one aiosqlite connection, and so one thread, per shard.

aiosqlite runs every call on its connection's own thread, in the order the calls
were made, and returns through a future on the loop.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Sequence
from pathlib import Path

import aiosqlite

from targets.errors import StorageError
from targets.routing import ShardRouter
from targets.storage.base import FortuneRow, WorldRow, assign_new_numbers, group_by_shard
from targets.storage.sqlite.layout import BUSY_TIMEOUT_MS, FORTUNE_SHARD
from targets.storage.sqlite.shard import SELECT_FORTUNES, SELECT_WORLD, UPDATE_WORLD


class AiosqliteStorage:
    """SQLite shards queried through aiosqlite, one connection per shard."""

    def __init__(self, connections: Sequence[aiosqlite.Connection], route: ShardRouter) -> None:
        """Use already open connections, in shard order; see `open`."""
        self._connections = list(connections)
        self._route = route
        # Requests share a connection, so a lock keeps each write transaction whole.
        self._write_locks = [asyncio.Lock() for _ in self._connections]
        self._open = True

    @classmethod
    async def open(cls, paths: Sequence[Path], route: ShardRouter) -> AiosqliteStorage:
        """Open one connection per shard path, in shard order.

        Raises:
            StorageError: a shard file cannot be opened.
        """
        connections: list[aiosqlite.Connection] = []
        try:
            for path in paths:
                connections.append(await _connect(path))
        except BaseException:
            for connection in connections:
                await connection.close()
            raise
        return cls(connections, route)

    @property
    def is_open(self) -> bool:
        """Whether the connections are open."""
        return self._open

    async def read_world(self, world_id: int) -> WorldRow:
        """Read one `world` row on its shard's connection thread."""
        if not self._open:
            raise StorageError("the SQLite shards are closed")
        connection = self._connections[self._route(world_id, len(self._connections))]
        try:
            rows = list(await connection.execute_fetchall(SELECT_WORLD, (world_id,)))
        except sqlite3.Error as exc:
            raise StorageError(f"reading world row {world_id} failed: {exc}") from exc
        if not rows:
            raise StorageError(f"world row {world_id} not found: run `perfgate db init`")
        return rows[0][0], rows[0][1]

    async def read_worlds(self, world_ids: Sequence[int]) -> list[WorldRow]:
        """Read rows one point query at a time."""
        return [await self.read_world(world_id) for world_id in world_ids]

    async def update_worlds(self, world_ids: Sequence[int]) -> list[WorldRow]:
        """Read the rows, then write new numbers in one transaction per shard."""
        rows = assign_new_numbers(await self.read_worlds(world_ids))
        for index, batch in group_by_shard(rows, len(self._connections), self._route).items():
            async with self._write_locks[index]:
                await self._write_worlds(self._connections[index], batch)
        return rows

    async def read_fortunes(self) -> list[FortuneRow]:
        """Read every fortune from the fortune shard."""
        if not self._open:
            raise StorageError("the SQLite shards are closed")
        try:
            rows = await self._connections[FORTUNE_SHARD].execute_fetchall(SELECT_FORTUNES)
        except sqlite3.Error as exc:
            raise StorageError(f"reading fortunes failed: {exc}") from exc
        return [(row[0], row[1]) for row in rows]

    async def close(self) -> None:
        """Close every connection and stop its thread."""
        if not self._open:
            return
        self._open = False
        for connection in self._connections:
            await connection.close()

    @staticmethod
    async def _write_worlds(connection: aiosqlite.Connection, rows: Sequence[WorldRow]) -> None:
        parameters = [(number, world_id) for world_id, number in rows]
        try:
            await connection.execute("BEGIN IMMEDIATE")
            try:
                await connection.executemany(UPDATE_WORLD, parameters)
                await connection.execute("COMMIT")
            except BaseException:
                # Shielded so that a cancelled request still ends its transaction;
                # the connection runs the rollback after any statement in progress.
                await asyncio.shield(connection.execute("ROLLBACK"))
                raise
        except sqlite3.Error as exc:
            raise StorageError(f"updating {len(rows)} world rows failed: {exc}") from exc


async def _connect(path: Path) -> aiosqlite.Connection:
    try:
        connection = await aiosqlite.connect(path, isolation_level=None)
        await connection.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        await connection.execute("PRAGMA journal_mode = WAL")
        await connection.execute("PRAGMA synchronous = NORMAL")
    except sqlite3.Error as exc:
        raise StorageError(f"cannot open shard file {path}: {exc}") from exc
    return connection
