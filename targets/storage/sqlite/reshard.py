"""Resharding SQLite shard files; see `targets.storage.reshard` for the method.

The target must be stopped: the files are rewritten while no one else writes them.
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
from collections.abc import Iterator, Sequence
from pathlib import Path

from targets.errors import StorageError
from targets.routing.keyspace import Keyspace
from targets.storage.reshard import (
    MOVABLE_TABLES,
    MovableTable,
    ReshardReport,
    new_keyspace,
    plan_moves,
)
from targets.storage.sqlite.layout import (
    SCHEMA,
    connect,
    expected_layout,
    read_layout,
    shard_path,
)
from targets.storage.sqlite.users import create_schema

logger = logging.getLogger(__name__)

_WRITE_LAYOUT = "INSERT OR REPLACE INTO perfgate_layout (key, value) VALUES (?, ?)"


def reshard_sqlite(
    data_dir: Path, shards: int, router: str | None = None, placement: str | None = None
) -> ReshardReport:
    """Move the rows of `data_dir`'s shards to their shards under the new keyspace.

    Args:
        data_dir: folder of the shard files, seeded by `perfgate db init` or serve.
        shards: the new shard count.
        router: the new router; the recorded one when `None`.
        placement: the new placement; the recorded one when `None`.

    Raises:
        TargetConfigError: no layout is recorded, or the new keyspace is invalid.
        StorageError: a file cannot be opened or written.
    """
    old, new = new_keyspace(read_layout(shard_path(data_dir, 0)), shards, router, placement)
    count = max(old.shards, new.shards)
    connections = [connect(shard_path(data_dir, index)) for index in range(count)]
    try:
        for connection in connections:
            _create_tables(connection)
        report = ReshardReport(old.shards, new.shards)
        for table in MOVABLE_TABLES:
            _move_table(connections, table, new, report)
        for index in range(new.shards):
            _write_layout(connections[index], expected_layout(index, new))
    except sqlite3.Error as exc:
        raise StorageError(f"resharding {data_dir} failed: {exc}") from exc
    finally:
        for connection in connections:
            connection.close()

    for index in range(new.shards, old.shards):
        _remove_shard(shard_path(data_dir, index))
    logger.info("resharded %s from %d to %d shards", data_dir, old.shards, new.shards)
    return report


def _create_tables(connection: sqlite3.Connection) -> None:
    for statement in SCHEMA:
        connection.execute(statement)
    create_schema(connection)


def _move_table(
    connections: Sequence[sqlite3.Connection],
    table: MovableTable,
    keyspace: Keyspace,
    report: ReshardReport,
) -> None:
    rows_by_shard = [
        connection.execute(table.select_sql()).fetchall() for connection in connections
    ]
    moves = plan_moves(table, rows_by_shard, keyspace, report)

    insert = table.insert_sql(postgres=False)
    for (_, target), batch in moves.items():
        with _transaction(connections[target]):
            connections[target].executemany(insert, batch)

    delete = table.delete_sql(postgres=False)
    for (source, _), batch in moves.items():
        with _transaction(connections[source]):
            connections[source].executemany(delete, [(row[table.key_index],) for row in batch])


@contextlib.contextmanager
def _transaction(connection: sqlite3.Connection) -> Iterator[None]:
    """Run a block in one `BEGIN IMMEDIATE` transaction, rolled back on error."""
    connection.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        connection.execute("ROLLBACK")
        raise
    connection.execute("COMMIT")


def _write_layout(connection: sqlite3.Connection, layout: dict[str, str]) -> None:
    with _transaction(connection):
        connection.execute("DELETE FROM perfgate_layout")
        connection.executemany(_WRITE_LAYOUT, sorted(layout.items()))


def _remove_shard(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    logger.info("removed emptied shard file %s", path)
