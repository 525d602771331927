"""Read profiles from TOML files and validate every field.

A profile file looks like this (all durations accept `500ms`, `20s`, `2m`):

    description = "Short ramp, then steady load on every endpoint."
    locustfile = "locustfiles/api.py"   # relative to the profile's folder's parent
    warmup = "2s"
    thresholds = ["fail_ratio < 1%", "p99 < 500ms"]

    [[stages]]
    name = "ramp"
    duration = "5s"
    users = 20
    spawn_rate = 10
    measure = false

    [[stages]]
    name = "steady"
    duration = "20s"
    users = 20
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any, NoReturn

from perfgate.errors import ProfileError
from perfgate.profiles.durations import parse_duration_s
from perfgate.profiles.model import DEFAULT_MAX_GENERATOR_CPU_PERCENT, Profile, Stage

PROFILE_KEYS = frozenset(
    {"name", "description", "locustfile", "warmup", "thresholds", "stages", "max_generator_cpu"}
)
STAGE_KEYS = frozenset({"name", "duration", "users", "spawn_rate", "measure"})
DEFAULT_SPAWN_RATE = 10.0

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def resolve_profile_path(name_or_path: str) -> Path:
    """Find a profile by file path, or by name in ./profiles or perfgate's own profiles/.

    Raises:
        ProfileError: no such file; the message lists where it looked.
    """
    candidate = Path(name_or_path)
    if candidate.suffix == ".toml" or candidate.parent != Path():
        if candidate.is_file():
            return candidate
        msg = f"profile file {name_or_path!r} not found"
        raise ProfileError(msg)

    searched = [Path.cwd() / "profiles", PROJECT_ROOT / "profiles"]
    for folder in searched:
        path = folder / f"{name_or_path}.toml"
        if path.is_file():
            return path
    places = ", ".join(str(folder) for folder in dict.fromkeys(searched))
    msg = (
        f"profile {name_or_path!r} not found in {places}; "
        "pass a name there or a path to a .toml file"
    )
    raise ProfileError(msg)


def load_profile(name_or_path: str) -> Profile:
    """Read and validate a profile.

    Raises:
        ProfileError: the file is missing, is not valid TOML, or a field is unknown,
            of the wrong type or out of range; the message names the file and field.
    """
    path = resolve_profile_path(name_or_path)
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        msg = f"profile {str(path)!r} is not valid TOML: {exc}"
        raise ProfileError(msg) from None
    return parse_profile(document, path)


def parse_profile(document: dict[str, Any], path: Path) -> Profile:
    """Validate a parsed TOML document as a profile read from `path`."""
    _reject_unknown_keys(document, PROFILE_KEYS, path, "top level")

    raw_stages = document.get("stages")
    if not isinstance(raw_stages, list) or not raw_stages:
        msg = (
            f"profile {str(path)!r}: 'stages' is missing or empty; "
            "add at least one [[stages]] table"
        )
        raise ProfileError(msg)
    stages = tuple(_parse_stage(raw, index, path) for index, raw in enumerate(raw_stages))
    _check_measured_stages(stages, path)

    locustfile = document.get("locustfile")
    if locustfile is not None and not isinstance(locustfile, str):
        _raise_type(path, "locustfile", locustfile, "a path string")
    thresholds = document.get("thresholds", [])
    if not isinstance(thresholds, list) or not all(isinstance(t, str) for t in thresholds):
        _raise_type(path, "thresholds", thresholds, "a list of strings such as 'p99 < 50ms'")
    max_cpu = document.get("max_generator_cpu", DEFAULT_MAX_GENERATOR_CPU_PERCENT)
    if isinstance(max_cpu, bool) or not isinstance(max_cpu, int | float) or not 0 < max_cpu <= 100:
        _raise_type(path, "max_generator_cpu", max_cpu, "a percentage in (0, 100]")

    return Profile(
        name=_string(document, "name", path, default=path.stem),
        path=path,
        description=_string(document, "description", path, default=""),
        locustfile=_resolve_locustfile(locustfile, path),
        stages=stages,
        warmup_s=_duration(document.get("warmup", 0), path, "warmup"),
        thresholds=tuple(thresholds),
        max_generator_cpu_percent=float(max_cpu),
    )


def _parse_stage(raw: object, index: int, path: Path) -> Stage:
    where = f"stages[{index}]"
    if not isinstance(raw, dict):
        _raise_type(path, where, raw, "a table with duration and users")
    _reject_unknown_keys(raw, STAGE_KEYS, path, where)
    if "duration" not in raw or "users" not in raw:
        msg = f"profile {str(path)!r}: {where} needs both 'duration' and 'users'"
        raise ProfileError(msg)

    users = raw["users"]
    if isinstance(users, bool) or not isinstance(users, int) or users < 0:
        _raise_type(path, f"{where}.users", users, "a whole number >= 0")
    spawn_rate = raw.get("spawn_rate", DEFAULT_SPAWN_RATE)
    if isinstance(spawn_rate, bool) or not isinstance(spawn_rate, int | float) or spawn_rate <= 0:
        _raise_type(path, f"{where}.spawn_rate", spawn_rate, "a number of users per second > 0")
    measure = raw.get("measure", True)
    if not isinstance(measure, bool):
        _raise_type(path, f"{where}.measure", measure, "true or false")
    duration_s = _duration(raw["duration"], path, f"{where}.duration")
    if duration_s <= 0:
        _raise_type(path, f"{where}.duration", raw["duration"], "a duration > 0")

    return Stage(
        name=_string(raw, "name", path, default=f"stage-{index}"),
        duration_s=duration_s,
        users=users,
        spawn_rate=float(spawn_rate),
        measure=measure,
    )


def _check_measured_stages(stages: tuple[Stage, ...], path: Path) -> None:
    measured = [index for index, stage in enumerate(stages) if stage.measure]
    if not measured:
        msg = f"profile {str(path)!r}: no stage has measure = true; the run would have no window"
        raise ProfileError(msg)
    if measured != list(range(measured[0], measured[-1] + 1)):
        msg = (
            f"profile {str(path)!r}: measured stages {measured} are not contiguous; "
            "the window must be one span"
        )
        raise ProfileError(msg)
    for index in measured:
        if stages[index].users < 1:
            msg = f"profile {str(path)!r}: stages[{index}] is measured but has 0 users"
            raise ProfileError(msg)


def _reject_unknown_keys(
    table: dict[str, Any], allowed: frozenset[str], path: Path, where: str
) -> None:
    unknown = sorted(set(table) - allowed)
    if unknown:
        msg = (
            f"profile {str(path)!r}: unknown key {unknown[0]!r} at {where}; "
            f"allowed keys: {', '.join(sorted(allowed))}"
        )
        raise ProfileError(msg)


def _raise_type(path: Path, field: str, value: object, expected: str) -> NoReturn:
    msg = f"profile {str(path)!r}: invalid {field} = {value!r}; expected {expected}"
    raise ProfileError(msg)


def _string(table: dict[str, Any], key: str, path: Path, *, default: str) -> str:
    value = table.get(key, default)
    if not isinstance(value, str):
        _raise_type(path, key, value, "a string")
    return str(value)


def _duration(value: object, path: Path, field: str) -> float:
    try:
        return parse_duration_s(value)
    except ValueError as exc:
        msg = f"profile {str(path)!r}: {field}: {exc}"
        raise ProfileError(msg) from None


def _resolve_locustfile(value: str | None, profile_path: Path) -> Path | None:
    """Resolve a locustfile against the profile's project folder, then the current folder."""
    if value is None:
        return None
    candidate = Path(value)
    if candidate.is_absolute():
        return candidate
    for base in (profile_path.resolve().parent.parent, Path.cwd(), PROJECT_ROOT):
        if (base / candidate).is_file():
            return base / candidate
    msg = (
        f"profile {str(profile_path)!r}: locustfile {value!r} not found next to the "
        "profile's folder or in the current folder"
    )
    raise ProfileError(msg)
