"""The storage interface the endpoints read and write through, and its row types.

Every backend keeps the two TechEmpower tables: `world` (ids 1 to 10,000, each
with a `randomnumber` in 1 to 10,000) and `fortune` (id and message).
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Protocol

from targets.routing import ShardRouter

WORLD_ROWS = 10_000
"""Number of rows in `world`; ids run from 1 to this value inclusive."""

MAX_RANDOM_NUMBER = 10_000
"""Largest `randomnumber`; values run from 1 to this value inclusive."""

WorldRow = tuple[int, int]
"""A `world` row as `(id, randomnumber)`."""

FortuneRow = tuple[int, str]
"""A `fortune` row as `(id, message)`."""


class Storage(Protocol):
    """Point reads and writes on `world`, and the full `fortune` table.

    Implementations never hold the event loop for longer than one point query
    (or, for writes, one transaction on one shard) at a time.
    """

    @property
    def is_open(self) -> bool:
        """Whether the storage is open and can serve reads."""
        ...

    async def read_world(self, world_id: int) -> WorldRow:
        """Read one `world` row by id."""
        ...

    async def read_worlds(self, world_ids: Sequence[int]) -> list[WorldRow]:
        """Read `world` rows by id, one point query each, in the order given."""
        ...

    async def update_worlds(self, world_ids: Sequence[int]) -> list[WorldRow]:
        """Read each row, store a new random number in it and return the new rows.

        The result has one row per id, in the order given. A repeated id gets the
        same new number each time it appears, and that number is the one stored.
        """
        ...

    async def read_fortunes(self) -> list[FortuneRow]:
        """Read every `fortune` row, in no particular order."""
        ...

    async def close(self) -> None:
        """Release every connection; later calls fail."""
        ...


def random_world_id() -> int:
    """Pick a `world` id uniformly from 1 to `WORLD_ROWS` inclusive."""
    return random.randint(1, WORLD_ROWS)


def random_number() -> int:
    """Pick a `randomnumber` uniformly from 1 to `MAX_RANDOM_NUMBER` inclusive."""
    return random.randint(1, MAX_RANDOM_NUMBER)


def assign_new_numbers(rows: Sequence[WorldRow]) -> list[WorldRow]:
    """Give every row a new random number; rows with the same id share one number."""
    new_numbers: dict[int, int] = {}
    for world_id, _ in rows:
        if world_id not in new_numbers:
            new_numbers[world_id] = random_number()
    return [(world_id, new_numbers[world_id]) for world_id, _ in rows]


def group_by_shard(
    rows: Sequence[WorldRow], shards: int, route: ShardRouter
) -> dict[int, list[WorldRow]]:
    """Group rows by the shard their id routes to, dropping repeated ids."""
    groups: dict[int, list[WorldRow]] = {}
    seen: set[int] = set()
    for row in rows:
        if row[0] in seen:
            continue
        seen.add(row[0])
        groups.setdefault(route(row[0], shards), []).append(row)
    return groups
