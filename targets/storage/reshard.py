"""Resharding: move the rows whose shard changes when the keyspace changes.

`perfgate db reshard` reads the keyspace the shards record, builds the new one
(another shard count, router or placement) and moves every row whose shard differs
under the two, table by table. Rows that stay are never touched, so the count of
moved rows measures what a router costs on a resize: from N to N+1 shards, jump,
ring and rendezvous move about 1/(N+1) of the rows, and modulo about N/(N+1).

Each move copies rows to their new shard, commits, then deletes them from the old
one. The layout record changes last, so an interrupted reshard can run again: it
copies what was not copied (ignoring rows already there) and finishes the deletes.
"""

from __future__ import annotations

import dataclasses

from targets.errors import TargetConfigError
from targets.routing.keyspace import Keyspace


@dataclasses.dataclass(frozen=True)
class MovableTable:
    """A sharded table and the column that routes its rows.

    Attributes:
        name: table name.
        columns: every column, in the order rows are copied.
        key: the primary-key column, by which moved rows are deleted.
        route_by: the column whose value the keyspace routes (an id).
    """

    name: str
    columns: tuple[str, ...]
    key: str
    route_by: str

    @property
    def route_index(self) -> int:
        """Position of `route_by` in `columns`."""
        return self.columns.index(self.route_by)

    @property
    def key_index(self) -> int:
        """Position of `key` in `columns`."""
        return self.columns.index(self.key)

    # Identifiers in these statements come from `MOVABLE_TABLES`, never from input,
    # and every value is a parameter.

    def select_sql(self) -> str:
        """Return the statement that reads every row."""
        return f"SELECT {', '.join(self.columns)} FROM {self.name}"  # noqa: S608

    def insert_sql(self, postgres: bool) -> str:
        """Return the statement that inserts one row unless its key exists already."""
        columns = ", ".join(self.columns)
        if postgres:
            values = ", ".join(f"${index}" for index in range(1, len(self.columns) + 1))
            return f"INSERT INTO {self.name} ({columns}) VALUES ({values}) ON CONFLICT DO NOTHING"  # noqa: S608
        values = ", ".join("?" for _ in self.columns)
        return f"INSERT OR IGNORE INTO {self.name} ({columns}) VALUES ({values})"  # noqa: S608

    def delete_sql(self, postgres: bool) -> str:
        """Return the statement that deletes rows by key (a key array in PostgreSQL)."""
        if postgres:
            return f"DELETE FROM {self.name} WHERE {self.key} = ANY($1)"  # noqa: S608
        return f"DELETE FROM {self.name} WHERE {self.key} = ?"  # noqa: S608


MOVABLE_TABLES = (
    MovableTable("world", ("id", "randomnumber"), "id", "id"),
    MovableTable("users", ("id", "name", "region", "events"), "id", "id"),
    MovableTable(
        "outbox",
        ("id", "user_id", "kind", "payload", "status", "enqueued_at", "claimed_at"),
        "id",
        "user_id",
    ),
    MovableTable(
        "applied_events", ("event_id", "user_id", "kind", "outcome"), "event_id", "user_id"
    ),
)
"""Every table spread by key; `fortune` stays whole on shard 0 and never moves."""


@dataclasses.dataclass
class ReshardReport:
    """Rows scanned and moved by one reshard, per table.

    Attributes:
        old_shards: shard count before.
        new_shards: shard count after.
        rows: rows per table, before.
        moved: rows moved per table.
    """

    old_shards: int
    new_shards: int
    rows: dict[str, int] = dataclasses.field(default_factory=dict)
    moved: dict[str, int] = dataclasses.field(default_factory=dict)

    def count(self, table: str, rows: int, moved: int) -> None:
        """Add `rows` scanned and `moved` rows to `table`'s totals."""
        self.rows[table] = self.rows.get(table, 0) + rows
        self.moved[table] = self.moved.get(table, 0) + moved

    def moved_share(self, table: str) -> float:
        """Moved rows of `table` as a share of its rows; 0 for an empty table."""
        rows = self.rows.get(table, 0)
        return self.moved.get(table, 0) / rows if rows else 0.0


Row = tuple[object, ...]
Moves = dict[tuple[int, int], list[Row]]
"""Rows to move, by `(source shard, target shard)`."""


def plan_moves(
    table: MovableTable, rows_by_shard: list[list[Row]], keyspace: Keyspace, report: ReshardReport
) -> Moves:
    """Find the rows of `table` whose shard under `keyspace` differs from where they are.

    Every shard is read before any row moves, so no row is counted twice.
    """
    moves: Moves = {}
    for source, rows in enumerate(rows_by_shard):
        for row in rows:
            route_key = row[table.route_index]
            assert isinstance(route_key, int), f"{table.name}.{table.route_by} is not an integer"
            target = keyspace.shard_for_id(route_key)
            if target != source:
                moves.setdefault((source, target), []).append(row)
    rows_total = sum(len(rows) for rows in rows_by_shard)
    report.count(table.name, rows_total, sum(len(batch) for batch in moves.values()))
    return moves


def new_keyspace(
    layout: dict[str, str], shards: int, router: str | None, placement: str | None
) -> tuple[Keyspace, Keyspace]:
    """Return the keyspace `layout` records and the one to reshard to.

    `router` and `placement` default to the recorded ones. A recorded placement
    names shard indices, so it carries over only when the shard count stays.

    Raises:
        TargetConfigError: nothing is recorded, or the new placement is missing or invalid.
    """
    if not layout:
        raise TargetConfigError("the shards record no layout: run `perfgate db init` first")
    old = Keyspace(int(layout["shard_count"]), layout["router"], layout.get("placement", ""))
    old_placement = old.placement.spec
    if placement is None:
        if old_placement and shards != old.shards:
            raise TargetConfigError(
                f"the shards use placement {old_placement!r}, which names shard indices: pass "
                f"--placement for {shards} shards"
            )
        placement = old_placement
    return old, Keyspace(shards, router or old.router_name, placement)
