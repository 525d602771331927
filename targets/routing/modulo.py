"""Modulo routing: a key's shard is the key modulo the shard count.

The cheapest router and the reference point for the others. It moves almost every
key when the shard count changes: going from N to N + 1 shards keeps a key in place
only when `key mod N == key mod (N + 1)`, which is about 1 / (N + 1) of the keys, so
about N / (N + 1) of them move.
"""

from __future__ import annotations

_MASK_64 = (1 << 64) - 1


def modulo_hash(key: int, buckets: int) -> int:
    """Return the bucket in `0..buckets - 1` that `key` maps to.

    Args:
        key: any integer; only its low 64 bits are used, as an unsigned value.
        buckets: the number of buckets, at least 1.

    Raises:
        ValueError: `buckets` is less than 1.
    """
    if buckets < 1:
        raise ValueError(f"bucket count must be at least 1, got {buckets!r}")
    return (key & _MASK_64) % buckets
