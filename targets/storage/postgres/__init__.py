"""PostgreSQL shards: one database (or schema) per shard, one asyncpg pool per shard."""

from __future__ import annotations

from targets.routing.keyspace import Keyspace
from targets.storage.directory import place_shards
from targets.storage.postgres.schema import init_postgres
from targets.storage.postgres.store import DEFAULT_POOL_SIZE, DEFAULT_TIMEOUT_S, PostgresStore


async def open_postgres_store(
    db: str,
    keyspace: Keyspace,
    *,
    pool_size: int = DEFAULT_POOL_SIZE,
    timeout_s: float = DEFAULT_TIMEOUT_S,
) -> PostgresStore:
    """Create and seed the shards `db` names if needed, then open a pool on each.

    Raises:
        TargetConfigError: `db` is not PostgreSQL URLs, or a shard was seeded for
            another keyspace.
        StorageError: a shard cannot be reached, created or seeded.
    """
    placements = place_shards(db, keyspace.shards)
    await init_postgres(placements, keyspace)
    return await PostgresStore.open(placements, keyspace, pool_size=pool_size, timeout_s=timeout_s)


__all__ = ["PostgresStore", "open_postgres_store"]
