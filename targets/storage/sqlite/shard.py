"""Blocking queries on one shard file, shared by the `inline` and `threads` read paths."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from pathlib import Path

from targets.errors import StorageError
from targets.storage.base import FortuneRow, WorldRow
from targets.storage.sqlite.layout import connect

SELECT_WORLD = "SELECT id, randomnumber FROM world WHERE id = ?"
UPDATE_WORLD = "UPDATE world SET randomnumber = ? WHERE id = ?"
SELECT_FORTUNES = "SELECT id, message FROM fortune"


class ShardConnection:
    """One connection to one shard file, used by one thread at a time."""

    __slots__ = ("_connection", "path")

    def __init__(self, path: Path) -> None:
        """Open the shard file at `path`.

        Raises:
            StorageError: the file cannot be opened.
        """
        self.path = path
        self._connection = connect(path)

    def read_world(self, world_id: int) -> WorldRow:
        """Read one `world` row with one point query.

        Raises:
            StorageError: the row is missing or the query failed.
        """
        try:
            row = self._connection.execute(SELECT_WORLD, (world_id,)).fetchone()
        except sqlite3.Error as exc:
            raise StorageError(
                f"reading world row {world_id} from {self.path} failed: {exc}"
            ) from exc
        if row is None:
            raise StorageError(
                f"world row {world_id} not found in {self.path}: run `perfgate db init` "
                f"on a fresh data folder"
            )
        return row[0], row[1]

    def write_worlds(self, rows: Sequence[WorldRow]) -> None:
        """Store each row's random number, all in one transaction.

        Raises:
            StorageError: the transaction failed and was rolled back.
        """
        parameters = [(number, world_id) for world_id, number in rows]
        try:
            self._connection.execute("BEGIN IMMEDIATE")
            try:
                self._connection.executemany(UPDATE_WORLD, parameters)
                self._connection.execute("COMMIT")
            except BaseException:
                self._connection.execute("ROLLBACK")
                raise
        except sqlite3.Error as exc:
            raise StorageError(
                f"updating {len(rows)} world rows in {self.path} failed: {exc}"
            ) from exc

    def read_fortunes(self) -> list[FortuneRow]:
        """Read every `fortune` row.

        Raises:
            StorageError: the query failed.
        """
        try:
            rows = self._connection.execute(SELECT_FORTUNES).fetchall()
        except sqlite3.Error as exc:
            raise StorageError(f"reading fortunes from {self.path} failed: {exc}") from exc
        return [(fortune_id, message) for fortune_id, message in rows]

    def close(self) -> None:
        """Close the connection."""
        self._connection.close()
