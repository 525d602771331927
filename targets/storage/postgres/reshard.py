"""Resharding PostgreSQL shards; see `targets.storage.reshard` for the method.

The target must be stopped. Shards removed by a smaller count have their schema
dropped; their databases stay, empty of perfgate's tables.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import asyncpg

from targets.errors import StorageError
from targets.routing.keyspace import Keyspace
from targets.storage.directory import ShardPlacement, place_shards
from targets.storage.postgres.schema import (
    connect_shard,
    create_tables,
    ensure_database,
    read_layout,
    write_layout,
)
from targets.storage.reshard import (
    MOVABLE_TABLES,
    MovableTable,
    ReshardReport,
    new_keyspace,
    plan_moves,
)
from targets.storage.sqlite.layout import expected_layout

logger = logging.getLogger(__name__)


async def reshard_postgres(
    db: str, shards: int, router: str | None = None, placement: str | None = None
) -> ReshardReport:
    """Move the rows of the shards `db` names to their shards under the new keyspace.

    Args:
        db: the `--db` value the shards were created with.
        shards: the new shard count.
        router: the new router; the recorded one when `None`.
        placement: the new placement; the recorded one when `None`.

    Raises:
        TargetConfigError: no layout is recorded, or the new keyspace is invalid.
        StorageError: a shard cannot be reached or written.
    """
    first = await connect_shard(place_shards(db, 1)[0])
    try:
        layout = await read_layout(first)
    finally:
        await first.close()
    old, new = new_keyspace(layout, shards, router, placement)
    placements = place_shards(db, max(old.shards, new.shards))

    connections: list[asyncpg.Connection] = []
    try:
        for shard_placement in placements:
            await ensure_database(shard_placement.dsn)
            connection = await connect_shard(shard_placement)
            connections.append(connection)
            await create_tables(connection, shard_placement.schema)
        report = ReshardReport(old.shards, new.shards)
        for table in MOVABLE_TABLES:
            await _move_table(connections, table, new, report)
        for index in range(new.shards):
            await _replace_layout(connections[index], expected_layout(index, new))
        for index in range(new.shards, old.shards):
            await _drop_schema(connections[index], placements[index])
    except asyncpg.PostgresError as exc:
        raise StorageError(f"resharding failed: {exc}") from exc
    finally:
        for connection in connections:
            await connection.close()
    logger.info("resharded PostgreSQL from %d to %d shards", old.shards, new.shards)
    return report


async def _move_table(
    connections: Sequence[asyncpg.Connection],
    table: MovableTable,
    keyspace: Keyspace,
    report: ReshardReport,
) -> None:
    rows_by_shard = [
        [tuple(row) for row in await connection.fetch(table.select_sql())]
        for connection in connections
    ]
    moves = plan_moves(table, rows_by_shard, keyspace, report)

    for (_, target), batch in moves.items():
        async with connections[target].transaction():
            await connections[target].executemany(table.insert_sql(postgres=True), batch)
    for (source, _), batch in moves.items():
        keys = [row[table.key_index] for row in batch]
        async with connections[source].transaction():
            await connections[source].execute(table.delete_sql(postgres=True), keys)


async def _replace_layout(connection: asyncpg.Connection, layout: dict[str, str]) -> None:
    async with connection.transaction():
        await connection.execute("DELETE FROM perfgate_layout")
        await write_layout(connection, layout)


async def _drop_schema(connection: asyncpg.Connection, placement: ShardPlacement) -> None:
    # The schema name is built from the shard index by `shard_schema`.
    await connection.execute(f'DROP SCHEMA "{placement.schema}" CASCADE')
    logger.info("dropped emptied shard schema %s", placement.schema)
