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

An open-model profile sets `model = "open"` and gives each stage a `rate` in arrivals
per second instead of `users`; `ramp = true` moves the rate linearly from the previous
stage's rate. `max_in_flight` caps the flows running at once over all workers and
`drop_after` is how long an arrival may wait for a free slot before it is dropped.

`abort_on_fail = true` ends a run as soon as a threshold fails on the part of the
window seen so far, judged once a second after the first `abort_delay` (5 s) of it.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any, NoReturn

from perfgate.errors import ConfigError, ProfileError
from perfgate.profiles.durations import parse_duration_s
from perfgate.profiles.model import (
    DEFAULT_DROP_AFTER_S,
    DEFAULT_MAX_GENERATOR_CPU_PERCENT,
    DEFAULT_MAX_IN_FLIGHT,
    LoadModel,
    Profile,
    Stage,
)
from perfgate.thresholds import parse_threshold

PROFILE_KEYS = frozenset(
    {
        "name",
        "description",
        "locustfile",
        "model",
        "warmup",
        "thresholds",
        "stages",
        "max_generator_cpu",
        "max_in_flight",
        "drop_after",
        "abort_on_fail",
        "abort_delay",
    }
)
STAGE_KEYS = {
    LoadModel.CLOSED: frozenset({"name", "duration", "users", "spawn_rate", "measure"}),
    LoadModel.OPEN: frozenset({"name", "duration", "rate", "ramp", "measure"}),
}
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

    model = _model(document, path)
    raw_stages = document.get("stages")
    if not isinstance(raw_stages, list) or not raw_stages:
        msg = (
            f"profile {str(path)!r}: 'stages' is missing or empty; "
            "add at least one [[stages]] table"
        )
        raise ProfileError(msg)
    stages = tuple(_parse_stage(raw, index, path, model) for index, raw in enumerate(raw_stages))
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
    max_in_flight = document.get("max_in_flight", DEFAULT_MAX_IN_FLIGHT)
    if isinstance(max_in_flight, bool) or not isinstance(max_in_flight, int) or max_in_flight < 1:
        _raise_type(path, "max_in_flight", max_in_flight, "a whole number >= 1")

    for expression in thresholds:
        try:
            parse_threshold(expression)
        except ConfigError as exc:
            msg = f"profile {str(path)!r}: thresholds: {exc}"
            raise ProfileError(msg) from None
    warmup_s = _duration(document.get("warmup", 0), path, "warmup")
    measured_s = sum(stage.duration_s for stage in stages if stage.measure)
    if warmup_s >= measured_s:
        msg = (
            f"profile {str(path)!r}: warmup {warmup_s:g} s is not shorter than the measured "
            f"stages ({measured_s:g} s), so no window would remain; shorten warmup"
        )
        raise ProfileError(msg)
    abort_on_fail = document.get("abort_on_fail", False)
    if not isinstance(abort_on_fail, bool):
        _raise_type(path, "abort_on_fail", abort_on_fail, "true or false")

    return Profile(
        name=_string(document, "name", path, default=path.stem),
        path=path,
        description=_string(document, "description", path, default=""),
        locustfile=_resolve_locustfile(locustfile, path),
        stages=stages,
        warmup_s=warmup_s,
        thresholds=tuple(thresholds),
        max_generator_cpu_percent=float(max_cpu),
        model=model,
        max_in_flight=max_in_flight,
        drop_after_s=_duration(
            document.get("drop_after", DEFAULT_DROP_AFTER_S), path, "drop_after"
        ),
    )


def _model(document: dict[str, Any], path: Path) -> LoadModel:
    value = document.get("model", LoadModel.CLOSED.value)
    try:
        return LoadModel(value)
    except ValueError:
        _raise_type(path, "model", value, "'closed' (users) or 'open' (arrival rate)")


def _parse_stage(raw: object, index: int, path: Path, model: LoadModel) -> Stage:
    where = f"stages[{index}]"
    if not isinstance(raw, dict):
        _raise_type(path, where, raw, "a table with duration and users or rate")
    _reject_unknown_keys(raw, STAGE_KEYS[model], path, f"{where} (model {model.value!r})")
    load_key = "users" if model is LoadModel.CLOSED else "rate"
    if "duration" not in raw or load_key not in raw:
        msg = f"profile {str(path)!r}: {where} needs both 'duration' and {load_key!r}"
        raise ProfileError(msg)

    measure = raw.get("measure", True)
    if not isinstance(measure, bool):
        _raise_type(path, f"{where}.measure", measure, "true or false")
    duration_s = _duration(raw["duration"], path, f"{where}.duration")
    if duration_s <= 0:
        _raise_type(path, f"{where}.duration", raw["duration"], "a duration > 0")
    name = _string(raw, "name", path, default=f"stage-{index}")

    if model is LoadModel.OPEN:
        rate = raw["rate"]
        if isinstance(rate, bool) or not isinstance(rate, int | float) or rate < 0:
            _raise_type(path, f"{where}.rate", rate, "a number of arrivals per second >= 0")
        ramp = raw.get("ramp", False)
        if not isinstance(ramp, bool):
            _raise_type(path, f"{where}.ramp", ramp, "true or false")
        return Stage(name, duration_s, 0, 0.0, measure, rate=float(rate), ramp=ramp)

    users = raw["users"]
    if isinstance(users, bool) or not isinstance(users, int) or users < 0:
        _raise_type(path, f"{where}.users", users, "a whole number >= 0")
    spawn_rate = raw.get("spawn_rate", DEFAULT_SPAWN_RATE)
    if isinstance(spawn_rate, bool) or not isinstance(spawn_rate, int | float) or spawn_rate <= 0:
        _raise_type(path, f"{where}.spawn_rate", spawn_rate, "a number of users per second > 0")
    return Stage(name, duration_s, users, float(spawn_rate), measure)


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
        stage = stages[index]
        if stage.users < 1 and not stage.rate:
            msg = f"profile {str(path)!r}: stages[{index}] is measured but offers no load"
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
