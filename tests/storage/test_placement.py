"""Placement specifications and the keyspace that routes ids through them."""

from __future__ import annotations

import random

import pytest

from targets.errors import TargetConfigError
from targets.routing.keyspace import MAX_ASSIGNED_ID, Keyspace, UnknownRegionError
from targets.routing.placement import parse_placement

SPEC = "eu=0-3;us|ca=4,5;*=6-7"


def test_groups_parsed_in_order() -> None:
    placement = parse_placement(SPEC, 8)
    assert [group.shards for group in placement.groups] == [(0, 1, 2, 3), (4, 5), (6, 7)]
    assert placement.groups[1].regions == frozenset({"us", "ca"})


def test_canonical_spec_sorted_regions() -> None:
    assert parse_placement("us|ca=4,5;eu=0-3;*=6,7", 8).spec == "ca|us=4,5;eu=0,1,2,3;*=6,7"


def test_catch_all_serves_unnamed_regions() -> None:
    placement = parse_placement(SPEC, 8)
    assert placement.group_index("ca") == 1
    assert placement.group_index("apac") == 2


def test_empty_spec_is_one_group() -> None:
    placement = parse_placement("", 4)
    assert placement.groups[0].shards == (0, 1, 2, 3)
    assert placement.group_index("anywhere") == 0


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("eu 0-3", r"group 'eu 0-3' has no '='"),
        ("eu=0-3;eu=4-7", r"region 'eu' appears in two groups"),
        ("eu=0-4;us=4-7", r"shard 4 appears in two groups"),
        ("eu=0-3;us=4-8", r"shard 8 is out of range for 8 shards \(0-7\)"),
        ("eu=0-3;us=4-6", r"shard 7 is in no group"),
        ("eu=3-1;us=0,4-7", r"shard range '3-1' is empty"),
        ("eu=a;us=0-7", r"invalid shard list item 'a'"),
        ("e u=0-7", r"invalid region 'e u'"),
    ],
    ids=["no-equals", "region-twice", "shard-twice", "out-of-range", "uncovered", "empty-range",
         "not-a-number", "bad-region"],
)  # fmt: skip
def test_invalid_spec_rejected(spec: str, message: str) -> None:
    with pytest.raises(TargetConfigError, match=message):
        parse_placement(spec, 8)


def test_id_group_picks_shard_group() -> None:
    keyspace = Keyspace(8, "jump", SPEC)
    groups = {0: {0, 1, 2, 3}, 1: {4, 5}, 2: {6, 7}}
    for key in range(1, 3000):
        assert keyspace.shard_for_id(key) in groups[key % 3]


@pytest.mark.parametrize("router", ["jump", "modulo", "rendezvous", "ring"])
def test_new_ids_land_in_region_group(router: str) -> None:
    keyspace = Keyspace(8, router, SPEC)
    random.seed(7)
    for region, shards in (("eu", {0, 1, 2, 3}), ("ca", {4, 5}), ("mars", {6, 7})):
        for _ in range(200):
            user_id = keyspace.new_id(region)
            assert 1 <= user_id <= MAX_ASSIGNED_ID
            assert keyspace.shard_for_id(user_id) in shards
            keyspace.check_id_region(user_id, region)


def test_every_shard_of_a_group_used() -> None:
    keyspace = Keyspace(8, "jump", SPEC)
    used = {keyspace.shard_for_id(keyspace.new_id("eu")) for _ in range(400)}
    assert used == {0, 1, 2, 3}


def test_client_id_in_wrong_group_rejected() -> None:
    keyspace = Keyspace(8, "jump", SPEC)
    with pytest.raises(ValueError, match=r"id 3 cannot hold a user of region 'us'.*id mod 3 == 1"):
        keyspace.check_id_region(3, "us")


def test_unknown_region_rejected_without_catch_all() -> None:
    keyspace = Keyspace(4, "jump", "eu=0,1;us=2,3")
    with pytest.raises(UnknownRegionError, match=r"unknown region 'mars': expected one of eu, us"):
        keyspace.new_id("mars")


def test_unplaced_keyspace_matches_router() -> None:
    keyspace = Keyspace(5, "modulo")
    assert [keyspace.shard_for_id(key) for key in range(10)] == [k % 5 for k in range(10)]


def test_unknown_router_rejected() -> None:
    with pytest.raises(TargetConfigError, match=r"unknown shard router 'crc'"):
        Keyspace(4, "crc")
