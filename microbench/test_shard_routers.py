"""Shard routers: time per lookup, and the share of keys moved when a shard is added.

Each router maps 1,000 keys per round to 16 shards. pytest-benchmark reports the time
of one round, so nanoseconds per lookup are the round time divided by 1,000. Beside
the timing, each benchmark stores in `extra_info` the share of 20,000 keys that change
shard when the count grows from 16 to 17 (`moved_fraction`), and that share times
17 (`moved_vs_ideal`): 1.0 is the least any router can move, because the new shard
must receive 1/17 of the keys.
"""

from __future__ import annotations

import random
from collections.abc import Callable

import pytest
from pytest_benchmark.fixture import BenchmarkFixture

from targets.routing.jump import jump_hash
from targets.routing.modulo import modulo_hash
from targets.routing.rendezvous import rendezvous_hash
from targets.routing.ring import ring_hash

Router = Callable[[int, int], int]

ROUTERS = {
    "jump": jump_hash,
    "modulo": modulo_hash,
    "rendezvous": rendezvous_hash,
    "ring": ring_hash,
}
SHARDS = 16
LOOKUPS_PER_ROUND = 1_000
MOVEMENT_KEYS = 20_000

_rng = random.Random(7)
LOOKUP_KEYS = [_rng.getrandbits(63) for _ in range(LOOKUPS_PER_ROUND)]
MOVEMENT_SAMPLE = [_rng.getrandbits(63) for _ in range(MOVEMENT_KEYS)]


def moved_fraction(router: Router, keys: list[int], shards: int) -> float:
    """Return the share of `keys` whose shard differs between `shards` and `shards + 1`."""
    moved = sum(1 for key in keys if router(key, shards) != router(key, shards + 1))
    return moved / len(keys)


def _route_all(router: Router) -> int:
    total = 0
    for key in LOOKUP_KEYS:
        total += router(key, SHARDS)
    return total


@pytest.mark.parametrize("name", sorted(ROUTERS))
def test_route_keys(benchmark: BenchmarkFixture, name: str) -> None:
    """Route 1,000 keys to 16 shards; record how many keys a 17th shard moves."""
    router = ROUTERS[name]
    router(0, SHARDS)  # builds the ring router's table outside the timing

    benchmark(_route_all, router)

    fraction = moved_fraction(router, MOVEMENT_SAMPLE, SHARDS)
    benchmark.extra_info["lookups_per_round"] = LOOKUPS_PER_ROUND
    benchmark.extra_info["shards"] = SHARDS
    benchmark.extra_info["moved_fraction"] = fraction
    benchmark.extra_info["moved_vs_ideal"] = fraction * (SHARDS + 1)
