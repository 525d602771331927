"""The keyspace: maps a row's integer id to its logical shard, through a router and a placement.

The shard count is fixed for a data set, as in Citus and Vitess: the router spreads
ids over logical shards, and the storage's shard directory maps each logical shard to
a physical store. Changing the count is a reshard (`perfgate db reshard`).
"""

from __future__ import annotations

import random

from targets.errors import TargetConfigError
from targets.routing import DEFAULT_ROUTER, ShardRouter, get_router
from targets.routing.placement import Placement, parse_placement

MAX_ID = (1 << 63) - 1
"""Largest id a row may have: the top of a signed 64-bit integer (PostgreSQL `bigint`)."""

MAX_ASSIGNED_ID = (1 << 53) - 1
"""Largest id the target assigns, so that clients that read JSON numbers as doubles keep it."""


class UnknownRegionError(ValueError):
    """No placement group serves a region."""


class Keyspace:
    """Route ids to shards: the group from `id mod G`, the shard inside it by the router."""

    def __init__(self, shards: int, router: str = DEFAULT_ROUTER, placement: str = "") -> None:
        """Route over `shards` logical shards with the named router and placement.

        Raises:
            TargetConfigError: the shard count, router name or placement is invalid.
        """
        if shards < 1:
            raise TargetConfigError(f"shard count must be at least 1, got {shards!r}")
        self.shards = shards
        self.router_name = router
        self.placement: Placement = parse_placement(placement, shards)
        self._route: ShardRouter = get_router(router)
        self._groups = [group.shards for group in self.placement.groups]
        self._group_count = len(self._groups)

    def shard_for_id(self, key: int) -> int:
        """Return the logical shard of the row with id `key`."""
        group = self._groups[key % self._group_count]
        return group[self._route(key // self._group_count, len(group))]

    def route(self, key: int, shards: int) -> int:
        """Route `key` like `shard_for_id`, in the `ShardRouter` signature the SQLite paths use.

        Raises:
            ValueError: `shards` differs from this keyspace's shard count.
        """
        if shards != self.shards:
            raise ValueError(f"keyspace has {self.shards} shards, cannot route over {shards}")
        return self.shard_for_id(key)

    def group_for_region(self, region: str) -> int:
        """Return the index of the placement group that serves `region`.

        Raises:
            UnknownRegionError: no group serves it; the message lists the known regions.
        """
        index = self.placement.group_index(region)
        if index is None:
            known = ", ".join(self.placement.regions)
            raise UnknownRegionError(f"unknown region {region!r}: expected one of {known}")
        return index

    def check_id_region(self, key: int, region: str) -> None:
        """Check that the id `key` belongs to the group that serves `region`.

        Raises:
            UnknownRegionError: no group serves `region`.
            ValueError: `key` belongs to another group; the message lists the ids that fit.
        """
        group = self.group_for_region(region)
        if key % self._group_count != group:
            raise ValueError(
                f"id {key} cannot hold a user of region {region!r}: with this placement "
                f"its ids are those with id mod {self._group_count} == {group}; "
                f"omit the id to have one assigned"
            )

    def new_id(self, region: str) -> int:
        """Pick a random id in 1..`MAX_ASSIGNED_ID` that belongs to `region`'s group.

        Raises:
            UnknownRegionError: no group serves `region`.
        """
        group = self.group_for_region(region)
        top = (MAX_ASSIGNED_ID - group) // self._group_count
        return random.randint(1, top) * self._group_count + group

    def describe(self) -> dict[str, str]:
        """Return the settings that fix where every id lives, to store beside the data."""
        return {
            "shard_count": str(self.shards),
            "router": self.router_name,
            "placement": self.placement.spec,
        }
