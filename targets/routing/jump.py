"""Jump consistent hash: a key's shard out of N, moving few keys when N grows.

Method: John Lamping and Eric Veach, "A Fast, Minimal Memory, Consistent Hash
Algorithm" (2014, arXiv:1406.2294). The key drives a 64-bit linear congruential
generator, and each step jumps forward to the next bucket that the key would move
to as the bucket count grows. When the count goes from N to N + 1, a key either
stays where it was or moves to the new bucket N, and about 1 / (N + 1) of all keys
move.
"""

from __future__ import annotations

_MASK_64 = (1 << 64) - 1
_LCG_MULTIPLIER = 2862933555777941757
_JUMP_SCALE = float(1 << 31)


def jump_hash(key: int, buckets: int) -> int:
    """Return the bucket in `0..buckets - 1` that `key` maps to.

    Args:
        key: any integer; only its low 64 bits are used, as an unsigned value.
        buckets: the number of buckets, at least 1.

    Raises:
        ValueError: `buckets` is less than 1.
    """
    if buckets < 1:
        raise ValueError(f"bucket count must be at least 1, got {buckets!r}")

    state = key & _MASK_64
    bucket = -1
    candidate = 0
    # `candidate` grows strictly on every step, so the loop runs at most `buckets` times
    # and about ln(buckets) times on average.
    while candidate < buckets:
        bucket = candidate
        state = (state * _LCG_MULTIPLIER + 1) & _MASK_64
        candidate = int((bucket + 1) * (_JUMP_SCALE / float((state >> 33) + 1)))
    return bucket
