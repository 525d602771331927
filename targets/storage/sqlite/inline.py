"""The `inline` read path: blocking SQLite calls made on the event loop thread itself.

A point read on a local SQLite file takes microseconds, less than a hop to a worker
thread, so this path runs queries directly. To hold the loop for no longer than one
query, it yields to the loop between the point reads of a request and between the
shard transactions of an update.

NOTE: a write that waits for another process's lock blocks the whole loop, for up
to `BUSY_TIMEOUT_MS`. The targets are the only writers of their data folder.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path

from targets.errors import StorageError
from targets.routing import ShardRouter
from targets.storage.base import FortuneRow, WorldRow, assign_new_numbers, group_by_shard
from targets.storage.sqlite.layout import FORTUNE_SHARD
from targets.storage.sqlite.shard import ShardConnection


class InlineStorage:
    """SQLite shards queried on the event loop thread, one connection per shard."""

    def __init__(self, paths: Sequence[Path], route: ShardRouter) -> None:
        """Open one connection per shard path, in shard order."""
        self._shards: list[ShardConnection] = []
        try:
            for path in paths:
                self._shards.append(ShardConnection(path))
        except BaseException:
            self._close_shards()
            raise
        self._shard_count = len(self._shards)
        self._route = route
        self._open = True

    @classmethod
    async def open(cls, paths: Sequence[Path], route: ShardRouter) -> InlineStorage:
        """Open the shards; the interface all read paths share."""
        return cls(paths, route)

    @property
    def is_open(self) -> bool:
        """Whether the shard connections are open."""
        return self._open

    async def read_world(self, world_id: int) -> WorldRow:
        """Read one `world` row from its shard."""
        return self._shard_for(world_id).read_world(world_id)

    async def read_worlds(self, world_ids: Sequence[int]) -> list[WorldRow]:
        """Read rows one point query at a time, yielding to the loop between them."""
        rows: list[WorldRow] = []
        for world_id in world_ids:
            if rows:
                await asyncio.sleep(0)
            rows.append(self._shard_for(world_id).read_world(world_id))
        return rows

    async def update_worlds(self, world_ids: Sequence[int]) -> list[WorldRow]:
        """Read the rows, then write new numbers in one transaction per shard."""
        rows = assign_new_numbers(await self.read_worlds(world_ids))
        for position, (index, batch) in enumerate(
            group_by_shard(rows, self._shard_count, self._route).items()
        ):
            if position:
                await asyncio.sleep(0)
            self._check_open()
            self._shards[index].write_worlds(batch)
        return rows

    async def read_fortunes(self) -> list[FortuneRow]:
        """Read every fortune from the fortune shard."""
        self._check_open()
        return self._shards[FORTUNE_SHARD].read_fortunes()

    async def close(self) -> None:
        """Close every shard connection."""
        self._open = False
        self._close_shards()

    def _shard_for(self, world_id: int) -> ShardConnection:
        self._check_open()
        return self._shards[self._route(world_id, self._shard_count)]

    def _check_open(self) -> None:
        if not self._open:
            raise StorageError("the SQLite shards are closed")

    def _close_shards(self) -> None:
        for shard in self._shards:
            shard.close()
        self._shards = []
