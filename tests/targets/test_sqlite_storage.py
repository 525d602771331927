"""SQLite shards: seeding with init_shards, layout checks, and the three read paths."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from targets.errors import StorageError, TargetConfigError
from targets.routing import jump_hash
from targets.storage.base import Storage
from targets.storage.seed import FORTUNES
from targets.storage.sqlite import SQLITE_MODES, init_shards, open_sqlite_storage
from targets.storage.sqlite.inline import InlineStorage


def _query(path: Path, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(path) as connection:
        return connection.execute(sql).fetchall()


def _stored_number(data_dir: Path, world_id: int, shards: int) -> int:
    path = data_dir / f"shard-{jump_hash(world_id, shards)}.sqlite3"
    with sqlite3.connect(path) as connection:
        (value,) = connection.execute(
            "SELECT randomnumber FROM world WHERE id = ?", (world_id,)
        ).fetchone()
    assert isinstance(value, int)
    return value


def test_init_creates_named_shard_files(tmp_path: Path) -> None:
    paths = init_shards(tmp_path / "data", 4)
    assert [path.name for path in paths] == [f"shard-{index}.sqlite3" for index in range(4)]
    assert all(path.is_file() for path in paths)


def test_init_places_rows_by_jump_hash(tmp_path: Path) -> None:
    paths = init_shards(tmp_path, 3)

    total = 0
    for index, path in enumerate(paths):
        world_ids = [row[0] for row in _query(path, "SELECT id FROM world")]
        assert all(
            isinstance(world_id, int) and jump_hash(world_id, 3) == index for world_id in world_ids
        )
        total += len(world_ids)
    assert total == 10_000


def test_init_seeds_random_numbers_in_range(tmp_path: Path) -> None:
    paths = init_shards(tmp_path, 2)
    for path in paths:
        ((low, high),) = _query(path, "SELECT min(randomnumber), max(randomnumber) FROM world")
        assert isinstance(low, int)
        assert low >= 1
        assert isinstance(high, int)
        assert high <= 10_000


def test_init_puts_fortunes_on_shard_zero(tmp_path: Path) -> None:
    paths = init_shards(tmp_path, 4)
    assert _query(paths[0], "SELECT id, message FROM fortune ORDER BY id") == list(FORTUNES)
    for path in paths[1:]:
        assert _query(path, "SELECT count(*) FROM fortune") == [(0,)]


def test_init_uses_wal(tmp_path: Path) -> None:
    paths = init_shards(tmp_path, 1)
    assert _query(paths[0], "PRAGMA journal_mode") == [("wal",)]


def test_init_twice_changes_nothing(tmp_path: Path) -> None:
    paths = init_shards(tmp_path, 4)
    before = [_query(path, "SELECT * FROM world ORDER BY id") for path in paths]

    assert init_shards(tmp_path, 4) == paths

    after = [_query(path, "SELECT * FROM world ORDER BY id") for path in paths]
    assert after == before
    assert _query(paths[0], "SELECT count(*) FROM fortune") == [(12,)]


def test_init_reseeds_unfinished_shard(tmp_path: Path) -> None:
    # A file with no recorded layout, as left by a seeding that was cut short.
    sqlite3.connect(tmp_path / "shard-1.sqlite3").close()

    paths = init_shards(tmp_path, 2)

    assert _query(paths[1], "SELECT count(*) FROM world") != [(0,)]


@pytest.mark.parametrize(("seeded", "requested"), [(4, 8), (4, 2), (2, 3)])
def test_init_rejects_other_shard_count(tmp_path: Path, seeded: int, requested: int) -> None:
    init_shards(tmp_path, seeded)
    with pytest.raises(TargetConfigError, match="does not hold a") as raised:
        init_shards(tmp_path, requested)
    message = str(raised.value)
    assert str(tmp_path) in message
    assert "delete the folder" in message
    assert f"perfgate db reshard --data-dir {tmp_path} --shards {requested}" in message


@pytest.mark.parametrize("shards", [0, -1])
def test_init_rejects_no_shards(tmp_path: Path, shards: int) -> None:
    with pytest.raises(TargetConfigError, match="shard count must be at least 1"):
        init_shards(tmp_path, shards)


def test_init_rejects_corrupt_file(tmp_path: Path) -> None:
    (tmp_path / "shard-0.sqlite3").write_bytes(b"this is not a database" * 100)
    with pytest.raises(StorageError, match=r"shard-0\.sqlite3"):
        init_shards(tmp_path, 1)


@pytest.fixture(params=sorted(SQLITE_MODES))
async def storage(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Storage]:
    opened = await open_sqlite_storage(tmp_path, 4, request.param)
    yield opened
    await opened.close()


async def test_read_world_matches_file(storage: Storage, tmp_path: Path) -> None:
    for world_id in (1, 2, 5000, 10_000):
        row = await storage.read_world(world_id)
        assert row == (world_id, _stored_number(tmp_path, world_id, 4))


async def test_read_worlds_keeps_order(storage: Storage) -> None:
    world_ids = [10_000, 1, 77, 1, 4242]
    rows = await storage.read_worlds(world_ids)
    assert [world_id for world_id, _ in rows] == world_ids


async def test_missing_world_raises(storage: Storage) -> None:
    with pytest.raises(StorageError, match=r"10001 not found"):
        await storage.read_world(10_001)


async def test_update_stores_returned_numbers(storage: Storage, tmp_path: Path) -> None:
    world_ids = list(range(1, 41))
    before = {world_id: _stored_number(tmp_path, world_id, 4) for world_id in world_ids}

    rows = await storage.update_worlds(world_ids)

    assert [world_id for world_id, _ in rows] == world_ids
    for world_id, number in rows:
        assert 1 <= number <= 10_000
        assert _stored_number(tmp_path, world_id, 4) == number
    changed = [world_id for world_id, number in rows if number != before[world_id]]
    assert len(changed) >= len(world_ids) - 2


async def test_update_repeated_id_gets_one_number(storage: Storage, tmp_path: Path) -> None:
    rows = await storage.update_worlds([7, 8, 7, 7])
    numbers_for_7 = {number for world_id, number in rows if world_id == 7}
    assert len(numbers_for_7) == 1
    assert _stored_number(tmp_path, 7, 4) == numbers_for_7.pop()


async def test_concurrent_updates_all_commit(storage: Storage, tmp_path: Path) -> None:
    batches = [list(range(start, start + 25)) for start in range(1, 201, 25)]

    results = await asyncio.gather(*(storage.update_worlds(batch) for batch in batches))

    for rows in results:
        for world_id, number in rows:
            assert _stored_number(tmp_path, world_id, 4) == number


async def test_read_fortunes_returns_table(storage: Storage) -> None:
    assert sorted(await storage.read_fortunes()) == sorted(FORTUNES)


async def test_closed_storage_rejects_reads(storage: Storage) -> None:
    assert storage.is_open
    await storage.close()
    assert not storage.is_open
    with pytest.raises(StorageError, match="closed"):
        await storage.read_world(1)


async def test_unknown_mode_rejected(tmp_path: Path) -> None:
    with pytest.raises(
        TargetConfigError,
        match=r"unknown SQLite mode 'mmap': expected one of aiosqlite, inline, threads",
    ):
        await open_sqlite_storage(tmp_path, 4, "mmap")


async def test_inline_reads_yield_between_queries(tmp_path: Path) -> None:
    storage = InlineStorage(init_shards(tmp_path, 2), jump_hash)
    ticks = 0

    async def count_ticks() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0)

    ticker = asyncio.create_task(count_ticks())
    await asyncio.sleep(0)
    try:
        await storage.read_worlds(list(range(1, 101)))
    finally:
        ticker.cancel()
        await storage.close()
    # The loop ran other tasks between the point reads instead of once at the end.
    assert ticks >= 90
