"""Create, seed and reshard either backend: the library behind `perfgate db`."""

from __future__ import annotations

import asyncio
from pathlib import Path

from targets.routing.keyspace import Keyspace
from targets.storage.directory import check_db, is_postgres, place_shards
from targets.storage.reshard import ReshardReport
from targets.storage.sqlite import init_shards


def init_storage(db: str, data_dir: Path, keyspace: Keyspace) -> list[str]:
    """Create and seed every shard of `keyspace` in the storage `db` names, and describe each.

    Returns:
        One line per shard, naming its file, or its database and schema with any
        password hidden.

    Raises:
        TargetConfigError: `db` is invalid, or the shards were seeded for another keyspace.
        StorageError: a shard cannot be created, reached or seeded.
    """
    check_db(db)
    if not is_postgres(db):
        return [str(path) for path in init_shards(data_dir, keyspace.shards, keyspace)]

    from targets.storage.postgres.schema import init_postgres

    placements = place_shards(db, keyspace.shards)
    asyncio.run(init_postgres(placements, keyspace))
    return [f"{placement.redacted_dsn} schema {placement.schema}" for placement in placements]


def reshard_storage(
    db: str, data_dir: Path, shards: int, router: str | None, placement: str | None
) -> ReshardReport:
    """Move the rows whose shard changes under the new shard count, router or placement.

    Raises:
        TargetConfigError: `db` is invalid, nothing was seeded, or the new keyspace is invalid.
        StorageError: a shard cannot be reached or written.
    """
    check_db(db)
    if not is_postgres(db):
        from targets.storage.sqlite.reshard import reshard_sqlite

        return reshard_sqlite(data_dir, shards, router, placement)

    from targets.storage.postgres.reshard import reshard_postgres

    return asyncio.run(reshard_postgres(db, shards, router, placement))
