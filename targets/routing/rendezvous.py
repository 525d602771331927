"""Rendezvous (highest random weight) hashing: a key goes to the bucket that ranks it highest.

Method: David Thaler and Chinya Ravishankar, "Using Name-Based Mappings to Increase
Hit Rates" (IEEE/ACM Transactions on Networking, 1998). Every bucket gives the key a
pseudo-random weight and the key goes to the heaviest bucket. Adding bucket N only
takes the keys that the new bucket outweighs, about 1 / (N + 1) of them, and moves no
key between old buckets. A lookup costs one hash per bucket, O(N).
"""

from __future__ import annotations

from targets.routing.mixing import MASK_64, mix64


def rendezvous_hash(key: int, buckets: int) -> int:
    """Return the bucket in `0..buckets - 1` that `key` maps to.

    Args:
        key: any integer; only its low 64 bits are used, as an unsigned value.
        buckets: the number of buckets, at least 1.

    Raises:
        ValueError: `buckets` is less than 1.
    """
    if buckets < 1:
        raise ValueError(f"bucket count must be at least 1, got {buckets!r}")

    key_hash = mix64(key & MASK_64)
    best_bucket = 0
    best_weight = -1
    for bucket in range(buckets):
        weight = mix64(key_hash ^ mix64(bucket))
        if weight > best_weight:
            best_bucket, best_weight = bucket, weight
    return best_bucket
