"""Read the gate's inputs: pytest-benchmark JSON files and perfgate run folders.

Each side of a comparison is one or more repeats of the same kind. A pytest-benchmark
file contributes one series per benchmark, whose samples are the raw per-round
timings in seconds per call (`stats.data`). Files written by pytest-benchmark 3.0 or
later are read; release 5.x is the one tested. Run folders are read by
`perfgate.gate.runs`.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import msgspec
import numpy as np

from perfgate.errors import ResultsError
from perfgate.gate.runs import is_run_path, read_run_series
from perfgate.gate.samples import ResultSet, Series, SourceKind

logger = logging.getLogger(__name__)

OLDEST_PYTEST_BENCHMARK = (3, 0)
RAW_TIMINGS_HINT = (
    "rerun with --benchmark-json=FILE, which always stores them, or add "
    "--benchmark-save-data to --benchmark-save/--benchmark-autosave"
)
# Options that change what a round measures; sample counts and time budgets do not.
_MEASUREMENT_OPTIONS = ("timer", "disable_gc")


def load_side(paths: Sequence[Path], label: str) -> ResultSet:
    """Read the repeats of one side (`label` is `baseline` or `candidate`) into a ResultSet.

    Raises:
        ResultsError: a file is missing, truncated, not JSON or of an unknown format; a
            pytest-benchmark file is too old or has no raw timings; the repeats mix
            kinds or machines. The message names the file and the fix.
    """
    if not paths:
        raise ResultsError(f"no {label} given; pass a pytest-benchmark JSON file or a run folder")

    parts = [_load_one(path) for path in paths]
    kinds = {part.kind for part in parts}
    if len(kinds) > 1:
        raise ResultsError(
            f"the {label} mixes pytest-benchmark files and perfgate run folders "
            f"({', '.join(str(path) for path in paths)}); compare one kind at a time"
        )
    machines = {tuple(sorted(part.machine.items())) for part in parts}
    if len(machines) > 1:
        raise ResultsError(
            f"the {label} repeats come from different machines: {_describe_machines(parts)}; "
            "repeats of one side must share a machine"
        )
    return _merge_repeats(parts)


def _merge_repeats(parts: Sequence[ResultSet]) -> ResultSet:
    merged: dict[str, Series] = {}
    for part in parts:
        for name, series in part.series.items():
            known = merged.get(name)
            if known is None:
                merged[name] = series
                continue
            parameters = dict(known.parameters)
            for key, value in series.parameters.items():
                if parameters.get(key) != value:
                    # Repeats that disagree are marked so the comparison can name it.
                    parameters[key] = f"{parameters.get(key)} | {value}"
            merged[name] = Series(
                name=name,
                short_name=known.short_name,
                unit=known.unit,
                higher_is_better=known.higher_is_better,
                repeats=known.repeats + series.repeats,
                parameters=parameters,
                extra_info=known.extra_info,
            )
    return ResultSet(
        kind=parts[0].kind,
        sources=tuple(source for part in parts for source in part.sources),
        machine=parts[0].machine,
        series=merged,
        invalid_reasons=tuple(reason for part in parts for reason in part.invalid_reasons),
    )


def _describe_machines(parts: Sequence[ResultSet]) -> str:
    return "; ".join(
        f"{part.sources[0]}: " + ", ".join(f"{k}={v}" for k, v in sorted(part.machine.items()))
        for part in parts
    )


def _load_one(path: Path) -> ResultSet:
    if is_run_path(path):
        return read_run_series(path)
    if path.is_dir():
        raise ResultsError(
            f"{str(path)!r} is a folder without run.json; pass a perfgate run folder "
            "(results/<run-id>) or a pytest-benchmark JSON file"
        )
    return read_pytest_benchmark(path)


def read_pytest_benchmark(path: Path) -> ResultSet:
    """Read one pytest-benchmark JSON file with raw timings into a ResultSet.

    Raises:
        ResultsError: the file is missing, not JSON, not a pytest-benchmark file,
            written by a release older than 3.0, or without raw timings.
    """
    document = _read_json(path)
    if not isinstance(document, dict) or not isinstance(document.get("benchmarks"), list):
        raise ResultsError(
            f"{str(path)!r} is not a pytest-benchmark JSON file (no 'benchmarks' list); "
            "write one with pytest --benchmark-json=FILE"
        )
    _check_version(path, document.get("version"))

    machine = _machine(document.get("machine_info"))
    series: dict[str, Series] = {}
    for entry in document["benchmarks"]:
        one = _series(path, entry)
        series[one.name] = one
    logger.debug("read %d benchmarks from %s", len(series), path)
    return ResultSet(SourceKind.PYTEST_BENCHMARK, (str(path),), machine, series)


def _read_json(path: Path) -> Any:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ResultsError(f"result file {str(path)!r} not found; check the path") from None
    except OSError as exc:
        raise ResultsError(f"cannot read result file {str(path)!r}: {exc}") from None
    try:
        return msgspec.json.decode(raw)
    except msgspec.DecodeError as exc:
        raise ResultsError(
            f"result file {str(path)!r} is truncated or not JSON ({exc}); rerun the benchmarks"
        ) from None


def _check_version(path: Path, version: object) -> None:
    text = str(version) if version is not None else ""
    numbers = text.split(".")
    try:
        major_minor = (int(numbers[0]), int(numbers[1]))
    except (ValueError, IndexError):
        raise ResultsError(
            f"{str(path)!r} has pytest-benchmark version {version!r}, which is not a "
            "release number; rerun the benchmarks with pytest-benchmark 3.0 or later"
        ) from None
    if major_minor < OLDEST_PYTEST_BENCHMARK:
        raise ResultsError(
            f"{str(path)!r} was written by pytest-benchmark {text}, older than 3.0, whose "
            "format the gate does not read; rerun the benchmarks with pytest-benchmark 3.0 or later"
        )


def _machine(info: object) -> dict[str, str]:
    if not isinstance(info, dict):
        return {}
    cpu = info.get("cpu") if isinstance(info.get("cpu"), dict) else {}
    assert isinstance(cpu, dict)
    python = str(info.get("python_version", ""))
    fields = {
        "machine": info.get("machine"),
        "cpu": cpu.get("brand_raw"),
        "cpu_count": cpu.get("count"),
        "python": ".".join(python.split(".")[:2]) if python else None,
        "implementation": info.get("python_implementation"),
    }
    return {key: str(value) for key, value in fields.items() if value not in (None, "")}


def _series(path: Path, entry: object) -> Series:
    if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
        raise ResultsError(
            f"{str(path)!r} has a benchmark entry without a name; rerun the benchmarks"
        )
    name: str = entry["name"]
    fullname = entry.get("fullname") if isinstance(entry.get("fullname"), str) else name
    stats = entry.get("stats")
    data = stats.get("data") if isinstance(stats, dict) else None
    if data is None:
        raise ResultsError(f"{str(path)!r} has no raw timings for {name!r}; {RAW_TIMINGS_HINT}")
    if not isinstance(data, list) or not all(_is_time(value) for value in data):
        raise ResultsError(
            f"{str(path)!r} has invalid raw timings for {name!r} (expected positive numbers); "
            "rerun the benchmarks"
        )

    return Series(
        name=str(fullname),
        short_name=name,
        unit="s",
        higher_is_better=False,
        repeats=(np.asarray(data, dtype=np.float64),),
        parameters=_parameters(entry),
        extra_info=_mapping(entry.get("extra_info")),
    )


def _is_time(value: object) -> bool:
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and value > 0
    )


def _parameters(entry: Mapping[str, Any]) -> dict[str, str]:
    parameters = {
        f"param {key}": repr(value) for key, value in _mapping(entry.get("params")).items()
    }
    options = _mapping(entry.get("options"))
    for key in _MEASUREMENT_OPTIONS:
        if key in options:
            parameters[key] = str(options[key])
    return parameters


def _mapping(value: object) -> dict[str, object]:
    return {str(key): item for key, item in value.items()} if isinstance(value, dict) else {}
