"""SQLite read paths: point-select cost of `inline`, `threads` and `aiosqlite`.

Each benchmark builds its own 4-shard data folder with `init_shards` and opens it
through the storage class that `perfgate serve --sqlite-mode` would use, on a
uvloop event loop. One round is 200 point reads of random `world` ids inside one
`run_until_complete` call, so the loop's start-up is outside the timing:

- sequential: one task reads the 200 rows one after another, as `/queries?queries=200`
  does (`read_worlds`, which for `inline` yields to the loop between reads);
- concurrent: 20 tasks each read 10 rows with `read_world`, as 20 connections
  calling `/db` at once would.

pytest-benchmark reports the time of one whole round; divide by 200 for one read.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvloop
from pytest_benchmark.fixture import BenchmarkFixture

from targets.routing import jump_hash
from targets.storage.base import Storage
from targets.storage.sqlite import SQLITE_MODES, init_shards

SHARDS = 4
READS_PER_ROUND = 200
CONCURRENT_TASKS = 20
TIMEOUT_S = 30.0

_rng = random.Random(11)
WORLD_IDS = [_rng.randint(1, 10_000) for _ in range(READS_PER_ROUND)]


@pytest.fixture
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    """A uvloop event loop, the target's default, closed after the test."""
    event_loop = uvloop.new_event_loop()
    yield event_loop
    event_loop.run_until_complete(event_loop.shutdown_default_executor())
    event_loop.close()


@pytest.fixture(params=list(SQLITE_MODES))
def storage(
    request: pytest.FixtureRequest, tmp_path: Path, loop: asyncio.AbstractEventLoop
) -> Iterator[Storage]:
    """Shards seeded in `tmp_path`, opened through the parametrized read path."""
    mode: str = request.param
    paths = init_shards(tmp_path / "data", SHARDS)
    opened = loop.run_until_complete(SQLITE_MODES[mode](paths, jump_hash))
    yield opened
    loop.run_until_complete(opened.close())


async def _sequential_reads(storage: Storage) -> None:
    async with asyncio.timeout(TIMEOUT_S):
        rows = await storage.read_worlds(WORLD_IDS)
    assert len(rows) == READS_PER_ROUND


async def _read_slice(storage: Storage, world_ids: list[int]) -> None:
    for world_id in world_ids:
        await storage.read_world(world_id)


async def _concurrent_reads(storage: Storage) -> None:
    per_task = READS_PER_ROUND // CONCURRENT_TASKS
    async with asyncio.timeout(TIMEOUT_S), asyncio.TaskGroup() as group:
        for start in range(0, READS_PER_ROUND, per_task):
            group.create_task(_read_slice(storage, WORLD_IDS[start : start + per_task]))


def test_point_reads_sequential(
    benchmark: BenchmarkFixture, loop: asyncio.AbstractEventLoop, storage: Storage
) -> None:
    """Read 200 rows one after another in one task."""
    benchmark(lambda: loop.run_until_complete(_sequential_reads(storage)))
    benchmark.extra_info["reads_per_round"] = READS_PER_ROUND


def test_point_reads_concurrent(
    benchmark: BenchmarkFixture, loop: asyncio.AbstractEventLoop, storage: Storage
) -> None:
    """Read 200 rows as 20 tasks of 10 reads each."""
    benchmark(lambda: loop.run_until_complete(_concurrent_reads(storage)))
    benchmark.extra_info["reads_per_round"] = READS_PER_ROUND
    benchmark.extra_info["tasks"] = CONCURRENT_TASKS
