"""SQLite shards: the embedded default storage, with three read paths chosen by name.

`inline` runs queries on the event loop thread, `threads` in a thread pool and
`aiosqlite` on one aiosqlite thread per shard. microbench/test_sqlite_access.py
compares their point-read cost, and `inline` is the default because it was fastest
there.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path

from targets.errors import TargetConfigError
from targets.routing import ShardRouter
from targets.routing.keyspace import Keyspace
from targets.storage.base import Storage
from targets.storage.sqlite.aiosqlite import AiosqliteStorage
from targets.storage.sqlite.inline import InlineStorage
from targets.storage.sqlite.layout import init_shards, shard_path
from targets.storage.sqlite.threads import ThreadedStorage

DEFAULT_SQLITE_MODE = "inline"

SQLITE_MODES: dict[str, Callable[[Sequence[Path], ShardRouter], Awaitable[Storage]]] = {
    "inline": InlineStorage.open,
    "threads": ThreadedStorage.open,
    "aiosqlite": AiosqliteStorage.open,
}


def check_sqlite_mode(mode: str) -> None:
    """Raise `TargetConfigError` unless `mode` names a read path, listing the known ones."""
    if mode not in SQLITE_MODES:
        known = ", ".join(sorted(SQLITE_MODES))
        raise TargetConfigError(f"unknown SQLite mode {mode!r}: expected one of {known}")


async def open_sqlite_storage(
    data_dir: Path, shards: int, mode: str, keyspace: Keyspace | None = None
) -> Storage:
    """Create and seed the shards if needed, then open them through the read path `mode`.

    Args:
        data_dir: folder of the shard files.
        shards: number of shards.
        mode: the read path's name.
        keyspace: routes world ids; the default router without placement when `None`.

    Raises:
        TargetConfigError: unknown mode, or a folder seeded for another shard count,
            router or placement.
        StorageError: a shard file cannot be created or opened.
    """
    check_sqlite_mode(mode)
    keyspace = keyspace if keyspace is not None else Keyspace(shards)
    paths = init_shards(data_dir, shards, keyspace)
    return await SQLITE_MODES[mode](paths, keyspace.route)


__all__ = [
    "DEFAULT_SQLITE_MODE",
    "SQLITE_MODES",
    "check_sqlite_mode",
    "init_shards",
    "open_sqlite_storage",
    "shard_path",
]
