"""Find the runs on each side of a comparison and group repeats of one configuration.

A side is a run folder, its run.json, or a folder whose subfolders are run folders
(the repeats of one configuration). Runs repeat each other when they share a
configuration label: the profile and the target's variant, codec, loop, storage,
router and shard count.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from perfgate.errors import ConfigError
from perfgate.results.schema import RunRecord
from perfgate.results.store import RUN_FILE, read_run


def configuration_label(record: RunRecord) -> str:
    """Return a short label of what a run measured, such as `smoke raw/orjson/uvloop/sqlite`.

    A run against an external `--host` is labelled with its URL instead of a variant.
    """
    target = record.target
    if target.variant is None:
        return f"{record.profile.name} {target.url}"
    parts = [target.variant, target.codec, target.loop, target.db, target.router]
    label = "/".join(part for part in parts if part)
    if target.shards is not None:
        label += f"/{target.shards} shards"
    return f"{record.profile.name} {label}"


def find_run_dirs(path: Path) -> list[Path]:
    """Return the run folders `path` names: itself, or its subfolders that contain a run.json.

    Raises:
        ConfigError: `path` does not exist or contains no run.json at either level.
    """
    if not path.exists():
        msg = f"run path {str(path)!r} not found; pass a folder such as results/<run-id>"
        raise ConfigError(msg)
    if path.is_file():
        return [path.parent]
    if (path / RUN_FILE).is_file():
        return [path]
    runs = sorted(child for child in path.iterdir() if (child / RUN_FILE).is_file())
    if not runs:
        msg = (
            f"no {RUN_FILE} in {str(path)!r} or its subfolders; pass a run folder "
            "or a folder whose subfolders are repeats of one run"
        )
        raise ConfigError(msg)
    return runs


def load_side(path: Path) -> list[RunRecord]:
    """Read every run that `path` names, in run id order.

    Raises:
        ConfigError: `path` names no run.
        ResultsError: a run.json is truncated, invalid or of an unknown schema.
    """
    return [read_run(run_dir) for run_dir in find_run_dirs(path)]


def group_by_configuration(records: Sequence[RunRecord]) -> list[tuple[str, list[int]]]:
    """Group runs by configuration label, in order of first appearance.

    Returns:
        (label, indexes into `records`) per configuration.
    """
    groups: dict[str, list[int]] = {}
    for index, record in enumerate(records):
        groups.setdefault(configuration_label(record), []).append(index)
    return list(groups.items())
