"""Shard routers: functions that map an integer key to one of N shards, chosen by name.

A router is a plain function `(key, shards) -> shard index`. Storage stores the
router's name beside the data, so a folder seeded by one router is never read
through another.
"""

from __future__ import annotations

from collections.abc import Callable

from targets.errors import TargetConfigError
from targets.routing.jump import jump_hash
from targets.routing.modulo import modulo_hash
from targets.routing.rendezvous import rendezvous_hash
from targets.routing.ring import ring_hash

ShardRouter = Callable[[int, int], int]
"""Map `(key, shards)` to a shard index in `0..shards - 1`."""

DEFAULT_ROUTER = "jump"

ROUTERS: dict[str, ShardRouter] = {
    "jump": jump_hash,
    "modulo": modulo_hash,
    "rendezvous": rendezvous_hash,
    "ring": ring_hash,
}


def get_router(name: str) -> ShardRouter:
    """Return the shard router registered under `name`.

    Raises:
        TargetConfigError: no router has that name; the message lists the known ones.
    """
    try:
        return ROUTERS[name]
    except KeyError:
        known = ", ".join(sorted(ROUTERS))
        raise TargetConfigError(f"unknown shard router {name!r}: expected one of {known}") from None


__all__ = ["DEFAULT_ROUTER", "ROUTERS", "ShardRouter", "get_router", "jump_hash"]
