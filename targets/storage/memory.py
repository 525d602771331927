"""In-memory storage: the same interface as the SQLite shards, for tests of the endpoints."""

from __future__ import annotations

from collections.abc import Sequence

from targets.errors import StorageError
from targets.storage.base import FortuneRow, WorldRow, assign_new_numbers
from targets.storage.seed import FORTUNES, generate_worlds


class MemoryStorage:
    """Keep `world` and `fortune` in dicts; every call completes without suspending."""

    def __init__(self, fortunes: Sequence[FortuneRow] = FORTUNES) -> None:
        """Seed every `world` row and the given fortunes."""
        self.worlds: dict[int, int] = dict(generate_worlds())
        self.fortunes: list[FortuneRow] = list(fortunes)
        self._open = True

    @property
    def is_open(self) -> bool:
        """Whether `close` has not been called yet."""
        return self._open

    async def read_world(self, world_id: int) -> WorldRow:
        """Read one `world` row by id."""
        self._check_open()
        try:
            return world_id, self.worlds[world_id]
        except KeyError:
            raise StorageError(f"world row {world_id!r} not found") from None

    async def read_worlds(self, world_ids: Sequence[int]) -> list[WorldRow]:
        """Read `world` rows by id, in the order given."""
        return [await self.read_world(world_id) for world_id in world_ids]

    async def update_worlds(self, world_ids: Sequence[int]) -> list[WorldRow]:
        """Store a new random number in each row and return the new rows."""
        rows = assign_new_numbers(await self.read_worlds(world_ids))
        self.worlds.update(rows)
        return rows

    async def read_fortunes(self) -> list[FortuneRow]:
        """Read every fortune."""
        self._check_open()
        return list(self.fortunes)

    async def close(self) -> None:
        """Mark the storage closed."""
        self._open = False

    def _check_open(self) -> None:
        if not self._open:
            raise StorageError("the in-memory storage is closed")
