"""Geographic placement: which shards serve the users of which regions.

A placement splits the shards into disjoint groups and maps regions to groups. The
`--placement` option writes it as groups separated by `;`, each `REGIONS=SHARDS`:

    eu=0-3;us|ca=4,5;*=6-7

`REGIONS` is one region name or several joined by `|`, and `*` matches every region
that no other group names. `SHARDS` lists shard indices and inclusive ranges joined
by `,`. Every shard from 0 to N-1 belongs to exactly one group. Without `*`, a user
whose region no group names is rejected.

A user's id carries its group: with G groups, the user's group is `id mod G`, and the
router picks the shard inside the group from `id div G`. So a point read by id needs
no region and touches exactly one shard, as a Vitess keyspace id that starts with a
region byte does.
"""

from __future__ import annotations

import dataclasses
import re

from targets.errors import TargetConfigError

CATCH_ALL_REGION = "*"

_REGION_NAME = re.compile(r"[A-Za-z0-9_.-]{1,64}")
_SHARD_RANGE = re.compile(r"(\d+)(?:-(\d+))?")


@dataclasses.dataclass(frozen=True)
class ShardGroup:
    """The shards that serve a set of regions.

    Attributes:
        regions: region names, possibly containing `CATCH_ALL_REGION`.
        shards: shard indices, sorted and distinct.
    """

    regions: frozenset[str]
    shards: tuple[int, ...]


@dataclasses.dataclass(frozen=True)
class Placement:
    """Regions mapped to disjoint shard groups; see the module docstring for the syntax.

    Attributes:
        groups: the groups, in the order the specification gave them.
        spec: the specification in canonical form, stored beside the data.
    """

    groups: tuple[ShardGroup, ...]
    spec: str

    def group_index(self, region: str) -> int | None:
        """Return the index of the group that serves `region`, or `None` if none does."""
        catch_all: int | None = None
        for index, group in enumerate(self.groups):
            if region in group.regions:
                return index
            if CATCH_ALL_REGION in group.regions:
                catch_all = index
        return catch_all

    @property
    def regions(self) -> list[str]:
        """Every region named by a group, sorted, without `*`."""
        names = {region for group in self.groups for region in group.regions}
        return sorted(names - {CATCH_ALL_REGION})


def single_group(shards: int) -> Placement:
    """Return the placement without regions: one group of every shard, serving any region."""
    return Placement((ShardGroup(frozenset({CATCH_ALL_REGION}), tuple(range(shards))),), "")


def parse_placement(spec: str, shards: int) -> Placement:
    """Parse a `--placement` specification for `shards` shards.

    An empty specification is the placement without regions.

    Raises:
        TargetConfigError: the syntax is invalid, a region or shard appears twice,
            or a shard is out of range or in no group. The message names the part.
    """
    if not spec.strip():
        return single_group(shards)

    groups: list[ShardGroup] = []
    region_owner: dict[str, int] = {}
    shard_owner: dict[int, int] = {}
    for index, part in enumerate(spec.split(";")):
        regions_text, equals, shards_text = part.partition("=")
        if not equals:
            raise _invalid(spec, f"group {part.strip()!r} has no '='; write REGIONS=SHARDS")
        regions = _parse_regions(spec, regions_text)
        group_shards = _parse_shards(spec, shards_text, shards)
        for region in regions:
            if region in region_owner:
                raise _invalid(spec, f"region {region!r} appears in two groups")
            region_owner[region] = index
        for shard in group_shards:
            if shard in shard_owner:
                raise _invalid(spec, f"shard {shard} appears in two groups")
            shard_owner[shard] = index
        groups.append(ShardGroup(frozenset(regions), group_shards))

    missing = sorted(set(range(shards)) - set(shard_owner))
    if missing:
        raise _invalid(spec, f"shard {missing[0]} is in no group; add it to one")
    canonical = ";".join(_format_group(group) for group in groups)
    return Placement(tuple(groups), canonical)


def _parse_regions(spec: str, text: str) -> list[str]:
    regions = [name.strip() for name in text.split("|")]
    for region in regions:
        if region != CATCH_ALL_REGION and not _REGION_NAME.fullmatch(region):
            raise _invalid(
                spec, f"invalid region {region!r}: use 1 to 64 letters, digits, '_', '.', '-'"
            )
    return regions


def _parse_shards(spec: str, text: str, shards: int) -> tuple[int, ...]:
    indices: set[int] = set()
    for item in text.split(","):
        match = _SHARD_RANGE.fullmatch(item.strip())
        if match is None:
            raise _invalid(spec, f"invalid shard list item {item.strip()!r}: write N or A-B")
        first = int(match.group(1))
        last = int(match.group(2)) if match.group(2) is not None else first
        if first > last:
            raise _invalid(spec, f"shard range {item.strip()!r} is empty")
        if last >= shards:
            limit = f"0-{shards - 1}"
            raise _invalid(spec, f"shard {last} is out of range for {shards} shards ({limit})")
        indices.update(range(first, last + 1))
    return tuple(sorted(indices))


def _format_group(group: ShardGroup) -> str:
    regions = "|".join(sorted(group.regions))
    return f"{regions}={','.join(str(shard) for shard in group.shards)}"


def _invalid(spec: str, reason: str) -> TargetConfigError:
    return TargetConfigError(f"invalid --placement {spec!r}: {reason}")
