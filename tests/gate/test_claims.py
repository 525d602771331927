"""Reading claims files and judging same-run claims."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from perfgate.errors import ConfigError, ResultsError
from perfgate.gate.claims import ClaimVerdict, judge_claims, load_claims
from perfgate.gate.loaders import load_side

BenchmarkWriter = Callable[..., Path]

HEADER = 'schema = "perfgate.claims/1"\n'
RATIO_CLAIM = """
[[claim]]
name = "fast-beats-slow"
text = "fast is at least 3x faster than slow"
kind = "ratio"
numerator = "test_slow"
denominator = "test_fast"
at_least = 3.0
tolerance = 0.1
"""
VALUE_CLAIM = """
[[claim]]
name = "few-moves"
text = "the router moves at most 1.2/(N+1) of the keys"
kind = "value"
benchmark = "test_fast"
extra_info = "moved_vs_ideal"
at_most = 1.2
"""


def _claims(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "claims.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _results(write_benchmarks: BenchmarkWriter, slow_s: float, moved: object = 1.05) -> Path:
    return write_benchmarks(
        {"test_slow": [slow_s] * 5, "test_fast": [1e-3] * 5},
        extra_info={"test_fast": {"moved_vs_ideal": moved}},
    )


def test_claims_file_is_read(tmp_path: Path) -> None:
    claims = load_claims(_claims(tmp_path, HEADER + RATIO_CLAIM + VALUE_CLAIM))

    assert [claim.name for claim in claims] == ["fast-beats-slow", "few-moves"]
    assert claims[0].benchmarks == ("test_slow", "test_fast")
    assert claims[0].at_least == 3.0
    assert claims[0].tolerance == 0.1
    assert claims[1].extra_info == "moved_vs_ideal"
    assert claims[1].tolerance == 0.0


def test_repository_claims_file_is_valid() -> None:
    claims = load_claims(Path(__file__).parents[2] / "microbench" / "claims.toml")

    names = {claim.name for claim in claims}
    assert {
        "orjson-encodes-small-objects",
        "jump-moves-few-keys",
        "uvloop-echo-round-trip",
    } <= names


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param(RATIO_CLAIM, "has schema None", id="no-schema"),
        pytest.param(
            'schema = "perfgate.claims/9"\n' + RATIO_CLAIM,
            "has schema 'perfgate.claims/9'",
            id="new-schema",
        ),
        pytest.param(HEADER, r"has no \[\[claim\]\] tables", id="no-claims"),
        pytest.param(HEADER + "[[claim\n", "is not valid TOML", id="bad-toml"),
        pytest.param(
            HEADER + RATIO_CLAIM.replace("at_least = 3.0", ""),
            "neither 'at_least' nor 'at_most'",
            id="no-bound",
        ),
        pytest.param(
            HEADER + RATIO_CLAIM.replace('kind = "ratio"', 'kind = "speed"'),
            "kind 'speed' is unknown",
            id="bad-kind",
        ),
        pytest.param(
            HEADER + RATIO_CLAIM.replace('numerator = "test_slow"', ""),
            "'numerator' is missing",
            id="no-numerator",
        ),
        pytest.param(
            HEADER + RATIO_CLAIM.replace("tolerance = 0.1", "tolerance = 2"),
            "tolerance 2.0 must be a share",
            id="bad-tolerance",
        ),
        pytest.param(
            HEADER + RATIO_CLAIM.replace("at_least = 3.0", 'at_least = "3x"'),
            "at_least = '3x' is not a number",
            id="text-bound",
        ),
        pytest.param(
            HEADER + RATIO_CLAIM + RATIO_CLAIM,
            r"repeats the claim names \['fast-beats-slow'\]",
            id="duplicate",
        ),
    ],
)
def test_invalid_claims_file_is_rejected(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_claims(_claims(tmp_path, text))


def test_missing_claims_file_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_claims(tmp_path / "absent.toml")


@pytest.mark.parametrize(
    ("slow_s", "verdict"),
    [
        pytest.param(4e-3, ClaimVerdict.HOLDS, id="well-above"),
        pytest.param(2.8e-3, ClaimVerdict.HOLDS, id="inside-tolerance"),
        pytest.param(2.6e-3, ClaimVerdict.BROKEN, id="beyond-tolerance"),
    ],
)
def test_ratio_claim_verdict(
    tmp_path: Path, write_benchmarks: BenchmarkWriter, slow_s: float, verdict: ClaimVerdict
) -> None:
    claims = load_claims(_claims(tmp_path, HEADER + RATIO_CLAIM))
    results = load_side([_results(write_benchmarks, slow_s)], "results")

    (result,) = judge_claims(claims, results)

    assert result.verdict is verdict
    assert result.measured == pytest.approx(slow_s / 1e-3)


@pytest.mark.parametrize(
    ("moved", "verdict"),
    [
        pytest.param(1.05, ClaimVerdict.HOLDS, id="holds"),
        pytest.param(1.3, ClaimVerdict.BROKEN, id="broken"),
    ],
)
def test_value_claim_verdict(
    tmp_path: Path, write_benchmarks: BenchmarkWriter, moved: float, verdict: ClaimVerdict
) -> None:
    claims = load_claims(_claims(tmp_path, HEADER + VALUE_CLAIM))
    results = load_side([_results(write_benchmarks, 4e-3, moved)], "results")

    (result,) = judge_claims(claims, results)

    assert result.verdict is verdict
    assert result.measured == moved


def test_value_claim_without_number_is_not_judged(
    tmp_path: Path, write_benchmarks: BenchmarkWriter
) -> None:
    claims = load_claims(_claims(tmp_path, HEADER + VALUE_CLAIM))
    results = load_side([_results(write_benchmarks, 4e-3, moved="many")], "results")

    (result,) = judge_claims(claims, results)

    assert result.verdict is ClaimVerdict.NOT_JUDGED
    assert "stored no number under extra_info 'moved_vs_ideal'" in result.reason


def test_claim_on_missing_benchmark_is_not_judged(
    tmp_path: Path, write_benchmarks: BenchmarkWriter
) -> None:
    claims = load_claims(_claims(tmp_path, HEADER + RATIO_CLAIM))
    results = load_side([write_benchmarks({"test_fast": [1e-3] * 5})], "results")

    (result,) = judge_claims(claims, results)

    assert result.verdict is ClaimVerdict.NOT_JUDGED
    assert result.reason == "no result for 'test_slow'; was it skipped?"


def test_claim_accepts_full_benchmark_name(
    tmp_path: Path, write_benchmarks: BenchmarkWriter
) -> None:
    text = HEADER + RATIO_CLAIM.replace('"test_slow"', '"microbench/test_example.py::test_slow"')
    results = load_side([_results(write_benchmarks, 4e-3)], "results")

    (result,) = judge_claims(load_claims(_claims(tmp_path, text)), results)

    assert result.verdict is ClaimVerdict.HOLDS


def test_ambiguous_short_name_is_rejected(
    tmp_path: Path, write_benchmarks: BenchmarkWriter
) -> None:
    first = write_benchmarks({"test_slow": [4e-3] * 5, "test_fast": [1e-3] * 5})
    results = load_side([first], "results")
    duplicate = results.series["microbench/test_example.py::test_slow"]
    renamed = dict(results.series)
    renamed["microbench/other.py::test_slow"] = duplicate
    ambiguous = type(results)(results.kind, results.sources, results.machine, renamed)

    with pytest.raises(ResultsError, match=r"matches .* use the full name"):
        judge_claims(load_claims(_claims(tmp_path, HEADER + RATIO_CLAIM)), ambiguous)
