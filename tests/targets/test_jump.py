"""Jump consistent hash: range, determinism, balance and minimal movement."""

from __future__ import annotations

from collections import Counter

import pytest

from targets.errors import TargetConfigError
from targets.routing import get_router, jump_hash

KEYS = range(1, 10_001)


@pytest.mark.parametrize("buckets", [1, 2, 3, 4, 7, 16, 1000])
def test_jump_hash_in_range(buckets: int) -> None:
    assert all(0 <= jump_hash(key, buckets) < buckets for key in KEYS)


def test_jump_hash_deterministic() -> None:
    first = [jump_hash(key, 13) for key in KEYS]
    second = [jump_hash(key, 13) for key in KEYS]
    assert first == second


def test_jump_hash_single_bucket() -> None:
    assert {jump_hash(key, 1) for key in KEYS} == {0}


@pytest.mark.parametrize("buckets", [2, 4, 8])
def test_jump_hash_balanced(buckets: int) -> None:
    counts = Counter(jump_hash(key, buckets) for key in KEYS)
    expected = len(KEYS) / buckets
    assert set(counts) == set(range(buckets))
    for count in counts.values():
        assert abs(count - expected) < 0.1 * expected


@pytest.mark.parametrize("buckets", [1, 2, 3, 4, 9, 31])
def test_growing_moves_about_one_in_n_plus_one(buckets: int) -> None:
    moved = [key for key in KEYS if jump_hash(key, buckets) != jump_hash(key, buckets + 1)]
    expected = len(KEYS) / (buckets + 1)
    assert abs(len(moved) - expected) < 0.15 * expected
    # A key that moves goes to the new bucket, never between old ones.
    assert {jump_hash(key, buckets + 1) for key in moved} == {buckets}


def test_jump_hash_uses_low_64_bits() -> None:
    assert jump_hash(5 + (1 << 64), 10) == jump_hash(5, 10)
    assert jump_hash(-1, 10) == jump_hash((1 << 64) - 1, 10)


@pytest.mark.parametrize("buckets", [0, -3])
def test_jump_hash_rejects_no_buckets(buckets: int) -> None:
    with pytest.raises(ValueError, match="bucket count must be at least 1"):
        jump_hash(1, buckets)


def test_router_registry() -> None:
    assert get_router("jump") is jump_hash
    with pytest.raises(
        TargetConfigError,
        match=r"unknown shard router 'crc': expected one of jump, modulo, rendezvous, ring",
    ):
        get_router("crc")
