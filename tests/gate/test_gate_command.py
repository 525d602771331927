"""`perfgate gate` end to end: inputs on disk, exit codes, messages and written files."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from perfgate.errors import ConfigError
from perfgate.gate.job import GateRequest, parse_share, run_gate

BenchmarkWriter = Callable[..., Path]
SampleMaker = Callable[..., list[float]]
CLAIMS = Path(__file__).parents[2] / "microbench" / "claims.toml"


def _gate(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "perfgate", "gate", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _repeats(
    option: str,
    write_benchmarks: BenchmarkWriter,
    make_samples: SampleMaker,
    scale: float,
    seed: int,
) -> list[str]:
    """Write three repeats of a two-benchmark suite and return them as `option PATH` pairs."""
    paths = []
    for repeat in range(3):
        samples = {
            "test_a": make_samples(seed + repeat, median_s=1e-3 * scale),
            "test_b": make_samples(seed + 10 + repeat, median_s=2e-3),
        }
        paths += [option, str(write_benchmarks(samples))]
    return paths


def test_equal_runs_exit_zero(write_benchmarks: BenchmarkWriter, make_samples: SampleMaker) -> None:
    result = _gate(
        *_repeats("--baseline", write_benchmarks, make_samples, 1.0, 1),
        *_repeats("--candidate", write_benchmarks, make_samples, 1.0, 101),
    )

    assert result.returncode == 0, result.stderr
    assert "0 regression" in result.stdout


def test_regression_exits_one_and_writes_reports(
    tmp_path: Path, write_benchmarks: BenchmarkWriter, make_samples: SampleMaker
) -> None:
    markdown, junit = tmp_path / "out" / "summary.md", tmp_path / "out" / "gate.xml"

    result = _gate(
        *_repeats("--baseline", write_benchmarks, make_samples, 1.0, 1),
        *_repeats("--candidate", write_benchmarks, make_samples, 1.5, 101),
        "--markdown",
        str(markdown),
        "--junit",
        str(junit),
    )

    assert result.returncode == 1, result.stderr
    assert "regression" in result.stdout
    assert "**regression**" in markdown.read_text(encoding="utf-8")
    assert 'failures="1"' in junit.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        pytest.param('{"benchmarks": [{"name": ', "is truncated or not JSON", id="truncated"),
        pytest.param('{"benchmarks": [], "version": "2.1.0"}', "older than 3.0", id="old-release"),
        pytest.param(
            '{"benchmarks": [{"name": "test_a", "stats": {"median": 1}}], "version": "5.3.1"}',
            "--benchmark-save-data",
            id="no-raw-timings",
        ),
    ],
)
def test_bad_input_exits_two_without_traceback(
    tmp_path: Path, write_benchmarks: BenchmarkWriter, content: str, message: str
) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(content, encoding="utf-8")
    good = write_benchmarks({"test_a": [1e-3] * 10})

    result = _gate("--baseline", str(good), "--candidate", str(bad))

    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_no_common_benchmark_exits_two(write_benchmarks: BenchmarkWriter) -> None:
    baseline = write_benchmarks({"test_a": [1e-3] * 10})
    candidate = write_benchmarks({"test_b": [1e-3] * 10})

    result = _gate("--baseline", str(baseline), "--candidate", str(candidate))

    assert result.returncode == 2
    assert "no benchmark in common" in result.stderr


def test_single_sample_exits_two_and_says_why(write_benchmarks: BenchmarkWriter) -> None:
    baseline = write_benchmarks({"test_a": [1e-3]})
    candidate = write_benchmarks({"test_a": [1e-3]})

    result = _gate(
        "--baseline", str(baseline), "--candidate", str(candidate), "--method", "bootstrap"
    )

    assert result.returncode == 2
    assert "too few samples" in result.stdout


def test_claims_mode_judges_one_run(write_benchmarks: BenchmarkWriter) -> None:
    results = write_benchmarks(
        {"test_encode_message[json]": [2e-6] * 5, "test_encode_message[orjson]": [1e-7] * 5}
    )

    result = _gate("--claims", str(CLAIMS), str(results), "--allow-missing")

    assert result.returncode == 0, result.stderr
    assert "orjson-encodes-small-objects" in result.stdout


def test_broken_claim_exits_one(write_benchmarks: BenchmarkWriter) -> None:
    results = write_benchmarks(
        {"test_encode_message[json]": [2e-7] * 5, "test_encode_message[orjson]": [1e-7] * 5}
    )

    result = _gate("--claims", str(CLAIMS), str(results), "--allow-missing")

    assert result.returncode == 1
    assert "broken" in result.stdout


def test_claims_not_judged_exit_two_by_default(write_benchmarks: BenchmarkWriter) -> None:
    results = write_benchmarks(
        {"test_encode_message[json]": [2e-6] * 5, "test_encode_message[orjson]": [1e-7] * 5}
    )

    outcome = run_gate(GateRequest(claims=CLAIMS, claim_results=(results,)))

    assert outcome.exit_code == 2


@pytest.mark.parametrize(
    ("request_", "message"),
    [
        pytest.param(GateRequest(), "nothing to judge", id="empty"),
        pytest.param(
            GateRequest(baseline=(Path("a.json"),)), "--candidate is missing", id="no-candidate"
        ),
        pytest.param(GateRequest(claims=CLAIMS), "--claims needs the results", id="claims-only"),
    ],
)
def test_incomplete_request_is_rejected(request_: GateRequest, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        run_gate(request_)


@pytest.mark.parametrize(
    ("text", "share"),
    [pytest.param("5%", 0.05, id="percent"), pytest.param("0.1", 0.1, id="fraction")],
)
def test_parse_share(text: str, share: float) -> None:
    assert parse_share(text) == pytest.approx(share)


def test_parse_share_rejects_text() -> None:
    with pytest.raises(ConfigError, match="invalid share 'five'"):
        parse_share("five")
