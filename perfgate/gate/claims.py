"""Design claims: same-run ratios and bounds that one benchmark run must satisfy.

A claims file (TOML, `schema = "perfgate.claims/1"`) lists `[[claim]]` tables of two
kinds. A `ratio` claim divides the median time of `numerator` by the median time of
`denominator`, both from the same run, so the machine's speed cancels out: "orjson
encodes small objects at least 3x faster than json" is `numerator = json`,
`denominator = orjson`, `at_least = 3.0`. A `value` claim bounds a number that a
benchmark stored in `extra_info`, such as the share of keys a router moves.

Each claim has `at_least` or `at_most` (or both) and a `tolerance`, the share by which
a measurement may miss the bound before the claim counts as broken: a claim of at
least 3.0 with tolerance 0.1 breaks below 2.7. Benchmarks are named by their pytest
name (`test_encode_message[json]`) or their full name (`file.py::test[param]`).
"""

from __future__ import annotations

import dataclasses
import enum
import math
import tomllib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from perfgate.errors import ConfigError, ResultsError
from perfgate.gate.samples import ResultSet, Series

CLAIMS_SCHEMA = "perfgate.claims/1"
KINDS = ("ratio", "value")


@dataclasses.dataclass(frozen=True)
class Claim:
    """One stated expectation about a run.

    Attributes:
        name: a short identifier, unique in the file.
        text: the claim in words, as reports show it.
        kind: `ratio` (median time of numerator / denominator) or `value` (extra_info).
        benchmarks: the numerator and denominator (`ratio`), or the one benchmark (`value`).
        extra_info: the `extra_info` key a `value` claim reads; empty for ratios.
        at_least: the lower bound, if any.
        at_most: the upper bound, if any.
        tolerance: the share by which a measurement may miss a bound.
    """

    name: str
    text: str
    kind: str
    benchmarks: tuple[str, ...]
    extra_info: str = ""
    at_least: float | None = None
    at_most: float | None = None
    tolerance: float = 0.0


class ClaimVerdict(enum.Enum):
    """The outcome of one claim."""

    HOLDS = "holds"
    BROKEN = "broken"
    NOT_JUDGED = "not judged"


@dataclasses.dataclass(frozen=True)
class ClaimResult:
    """A claim with its measurement and verdict; `measured` is None when not judged."""

    claim: Claim
    verdict: ClaimVerdict
    measured: float | None = None
    reason: str = ""


def load_claims(path: Path) -> tuple[Claim, ...]:
    """Read a claims file.

    Raises:
        ConfigError: the file is missing, not TOML, of another schema, or a claim lacks
            a field or has an invalid one; the message names the claim and the fix.
    """
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"claims file {str(path)!r} not found; check the path") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"claims file {str(path)!r} is not valid TOML: {exc}") from None

    schema = document.get("schema")
    if schema != CLAIMS_SCHEMA:
        raise ConfigError(
            f"claims file {str(path)!r} has schema {schema!r}; this perfgate reads "
            f'{CLAIMS_SCHEMA!r}, so add schema = "{CLAIMS_SCHEMA}" at the top'
        )
    entries = document.get("claim")
    if not isinstance(entries, list) or not entries:
        raise ConfigError(f"claims file {str(path)!r} has no [[claim]] tables; add at least one")

    claims = tuple(_parse_claim(path, index, entry) for index, entry in enumerate(entries, 1))
    names = [claim.name for claim in claims]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise ConfigError(
            f"claims file {str(path)!r} repeats the claim names {duplicates}; make them unique"
        )
    return claims


def _parse_claim(path: Path, index: int, entry: dict[str, Any]) -> Claim:
    where = f"claims file {str(path)!r}, claim {index} ({entry.get('name', 'unnamed')!r})"

    def text_field(key: str) -> str:
        value = entry.get(key)
        if not isinstance(value, str) or not value:
            raise ConfigError(f"{where}: {key!r} is missing or not a string; add it")
        return value

    def number_field(key: str) -> float | None:
        value = entry.get(key)
        if value is None:
            return None
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
        ):
            raise ConfigError(f"{where}: {key} = {value!r} is not a number")
        return float(value)

    kind = text_field("kind")
    if kind not in KINDS:
        raise ConfigError(f"{where}: kind {kind!r} is unknown; use 'ratio' or 'value'")
    if kind == "ratio":
        benchmarks: tuple[str, ...] = (text_field("numerator"), text_field("denominator"))
        extra = ""
    else:
        benchmarks = (text_field("benchmark"),)
        extra = text_field("extra_info")

    at_least, at_most = number_field("at_least"), number_field("at_most")
    if at_least is None and at_most is None:
        raise ConfigError(
            f"{where}: it has neither 'at_least' nor 'at_most'; add the bound it states"
        )
    tolerance = number_field("tolerance") or 0.0
    if not 0.0 <= tolerance < 1.0:
        raise ConfigError(
            f"{where}: tolerance {tolerance!r} must be a share in [0, 1), such as 0.1"
        )
    return Claim(
        name=text_field("name"),
        text=text_field("text"),
        kind=kind,
        benchmarks=benchmarks,
        extra_info=extra,
        at_least=at_least,
        at_most=at_most,
        tolerance=tolerance,
    )


def judge_claims(claims: Sequence[Claim], results: ResultSet) -> tuple[ClaimResult, ...]:
    """Judge every claim against one run (or the pooled repeats of one side).

    A claim whose benchmark is missing from the results, for example because it was
    skipped, is not judged, and its reason names the missing benchmark.

    Raises:
        ResultsError: a short benchmark name matches more than one benchmark.
    """
    return tuple(_judge(claim, results) for claim in claims)


def _judge(claim: Claim, results: ResultSet) -> ClaimResult:
    found = [_find(results, name) for name in claim.benchmarks]
    missing = [name for name, series in zip(claim.benchmarks, found, strict=True) if series is None]
    if missing:
        names = ", ".join(repr(name) for name in missing)
        return ClaimResult(
            claim, ClaimVerdict.NOT_JUDGED, reason=f"no result for {names}; was it skipped?"
        )

    series = [one for one in found if one is not None]
    if claim.kind == "ratio":
        measured = float(np.median(series[0].pooled()) / np.median(series[1].pooled()))
    else:
        value = series[0].extra_info.get(claim.extra_info)
        if isinstance(value, bool) or not isinstance(value, int | float):
            reason = (
                f"{claim.benchmarks[0]!r} stored no number under extra_info {claim.extra_info!r}"
            )
            return ClaimResult(claim, ClaimVerdict.NOT_JUDGED, reason=reason)
        measured = float(value)

    broken = (
        claim.at_least is not None and measured < claim.at_least * (1.0 - claim.tolerance)
    ) or (claim.at_most is not None and measured > claim.at_most * (1.0 + claim.tolerance))
    return ClaimResult(claim, ClaimVerdict.BROKEN if broken else ClaimVerdict.HOLDS, measured)


def _find(results: ResultSet, name: str) -> Series | None:
    if name in results.series:
        return results.series[name]
    matches = [series for series in results.series.values() if series.short_name == name]
    if len(matches) > 1:
        full_names = ", ".join(series.name for series in matches)
        raise ResultsError(
            f"benchmark name {name!r} matches {full_names}; use the full name in the claim"
        )
    return matches[0] if matches else None
