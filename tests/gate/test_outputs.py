"""The gate's Markdown, JUnit and terminal renderings."""

from __future__ import annotations

from xml.etree import ElementTree

import pytest

from perfgate.gate.claims import Claim, ClaimResult, ClaimVerdict
from perfgate.gate.outputs import (
    format_change,
    format_value,
    render_junit,
    render_markdown,
    report_table,
)
from perfgate.gate.verdicts import GateReport, GateSettings, Row, Verdict

REGRESSION = Row(
    "test_slow|er", "s", Verdict.REGRESSION, "", 1e-3, 1.2e-3, 1.2, (1.1, 1.3), 1e-5, 100, 100
)
SAME = Row("test_same", "s", Verdict.NO_CHANGE, "", 1e-3, 1e-3, 1.0, (0.98, 1.02), 1.0, 100, 100)
UNJUDGED = Row("test_one", "s", Verdict.NOT_COMPARABLE, "too few samples", baseline_samples=1)
REPORT = GateReport(
    rows=(SAME, UNJUDGED, REGRESSION),
    only_baseline=("test_removed",),
    only_candidate=(),
    confidence=0.997,
    settings=GateSettings(),
    baseline_sources=("a.json",),
    candidate_sources=("b.json",),
)
CLAIM = Claim("fast", "fast is 3x faster", "ratio", ("a", "b"), at_least=3.0, tolerance=0.1)
CLAIMS = (
    ClaimResult(CLAIM, ClaimVerdict.BROKEN, 2.0),
    ClaimResult(CLAIM, ClaimVerdict.NOT_JUDGED, reason="no result for 'a'"),
)


@pytest.mark.parametrize(
    ("value", "unit", "text"),
    [
        pytest.param(1.5, "s", "1.5 s", id="seconds"),
        pytest.param(2.5e-3, "s", "2.5 ms", id="milliseconds"),
        pytest.param(7.1e-8, "s", "71 ns", id="nanoseconds"),
        pytest.param(12.25, "ms", "12.25 ms", id="latency"),
        pytest.param(None, "s", "-", id="missing"),
    ],
)
def test_format_value_scales_units(value: float | None, unit: str, text: str) -> None:
    assert format_value(value, unit) == text


def test_format_change_shows_interval() -> None:
    assert format_change(REGRESSION) == "+20.0% [+10.0%, +30.0%]"


def test_markdown_lists_regressions_first() -> None:
    text = render_markdown(REPORT, CLAIMS)

    lines = [line for line in text.splitlines() if line.startswith("| `")]
    assert lines[0].startswith("| `test_slow\\|er`")
    assert "**regression**" in lines[0]
    assert "not comparable: too few samples" in lines[1]
    assert "Only in the baseline: `test_removed`" in text
    assert "## Design claims" in text
    assert "| fast: fast is 3x faster | >= 3 (tolerance 10%) | 2 | broken |" in text


def test_junit_marks_failures_and_errors() -> None:
    root = ElementTree.fromstring(render_junit(REPORT, CLAIMS))  # noqa: S314 - our own output

    gate, claims = root.findall("testsuite")
    assert gate.get("tests") == "3"
    assert gate.get("failures") == "1"
    assert gate.get("errors") == "1"
    failure = gate.find("testcase[@name='test_slow|er']/failure")
    assert failure is not None
    assert "+20.0%" in (failure.get("message") or "")
    assert claims.get("failures") == "1"
    assert claims.get("errors") == "1"


def test_table_caption_names_the_settings() -> None:
    table = report_table(REPORT)

    assert table.row_count == 3
    assert "1 regression" in str(table.caption)
    assert "welch intervals at 99.70%" in str(table.caption)
