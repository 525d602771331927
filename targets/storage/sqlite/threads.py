"""The `threads` read path: blocking SQLite calls sent to a thread pool.

Each pool thread opens its own connection to every shard on first use, so no
connection is ever shared between threads. The loop only waits on futures.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

from targets.errors import StorageError
from targets.routing import ShardRouter
from targets.storage.base import FortuneRow, WorldRow, assign_new_numbers, group_by_shard
from targets.storage.sqlite.layout import FORTUNE_SHARD
from targets.storage.sqlite.shard import ShardConnection

_T = TypeVar("_T")


class ThreadedStorage:
    """SQLite shards queried from a thread pool, with connections local to each thread."""

    def __init__(
        self, paths: Sequence[Path], route: ShardRouter, max_workers: int | None = None
    ) -> None:
        """Create the pool; connections open lazily in each pool thread.

        Args:
            paths: shard paths, in shard order.
            route: the shard router the data folder was seeded with.
            max_workers: pool size; `None` takes `ThreadPoolExecutor`'s default,
                which is `min(32, CPU count + 4)`.
        """
        self._paths = list(paths)
        self._route = route
        self._executor = ThreadPoolExecutor(max_workers, thread_name_prefix="sqlite-shard")
        self._local = threading.local()
        self._opened: list[ShardConnection] = []
        self._opened_lock = threading.Lock()
        self._open = True

    @classmethod
    async def open(cls, paths: Sequence[Path], route: ShardRouter) -> ThreadedStorage:
        """Create the storage; the interface all read paths share."""
        return cls(paths, route)

    @property
    def is_open(self) -> bool:
        """Whether the pool still accepts queries."""
        return self._open

    async def read_world(self, world_id: int) -> WorldRow:
        """Read one `world` row in a pool thread."""
        return await self._run(self._read_world, world_id)

    async def read_worlds(self, world_ids: Sequence[int]) -> list[WorldRow]:
        """Read rows one point query at a time, each in a pool thread."""
        return [await self._run(self._read_world, world_id) for world_id in world_ids]

    async def update_worlds(self, world_ids: Sequence[int]) -> list[WorldRow]:
        """Read the rows, then write new numbers in one transaction per shard."""
        rows = assign_new_numbers(await self.read_worlds(world_ids))
        groups = group_by_shard(rows, len(self._paths), self._route)
        for index, batch in groups.items():
            await self._run(self._write_worlds, index, batch)
        return rows

    async def read_fortunes(self) -> list[FortuneRow]:
        """Read every fortune from the fortune shard in a pool thread."""
        return await self._run(self._read_fortunes)

    async def close(self) -> None:
        """Wait for queries in progress, stop the pool and close every connection."""
        if not self._open:
            return
        self._open = False
        await asyncio.to_thread(self._executor.shutdown, wait=True)
        with self._opened_lock:
            opened, self._opened = self._opened, []
        for shard in opened:
            shard.close()

    async def _run(self, function: Callable[..., _T], *args: object) -> _T:
        if not self._open:
            raise StorageError("the SQLite shards are closed")
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, function, *args)

    def _thread_shards(self) -> list[ShardConnection]:
        shards: list[ShardConnection] | None = getattr(self._local, "shards", None)
        if shards is None:
            shards = [ShardConnection(path) for path in self._paths]
            with self._opened_lock:
                self._opened.extend(shards)
            self._local.shards = shards
        return shards

    def _read_world(self, world_id: int) -> WorldRow:
        shard = self._thread_shards()[self._route(world_id, len(self._paths))]
        return shard.read_world(world_id)

    def _write_worlds(self, index: int, rows: Sequence[WorldRow]) -> None:
        self._thread_shards()[index].write_worlds(rows)

    def _read_fortunes(self) -> list[FortuneRow]:
        return self._thread_shards()[FORTUNE_SHARD].read_fortunes()
