"""A 64-bit mixing function shared by the hashing routers.

Method: the finalizer of SplitMix64 (Guy Steele, Doug Lea and Christine Flood,
"Fast Splittable Pseudorandom Number Generators", OOPSLA 2014). It maps each 64-bit
input to a distinct, well-spread 64-bit output, so sequential keys and small bucket
numbers land far apart on a hash ring or in a rendezvous ranking.
"""

from __future__ import annotations

MASK_64 = (1 << 64) - 1
_GOLDEN_GAMMA = 0x9E3779B97F4A7C15


def mix64(value: int) -> int:
    """Return the SplitMix64 output for `value` (its low 64 bits) as an unsigned integer."""
    z = (value + _GOLDEN_GAMMA) & MASK_64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK_64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK_64
    return z ^ (z >> 31)
