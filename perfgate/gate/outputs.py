"""Render the gate's verdicts: a rich table, Markdown for a CI job summary, and JUnit XML.

Every output shows the same rows in the same order. Ratios are candidate / baseline,
so 1.10 on a time row is 10% slower, and 1.10 on a throughput row is 10% more
requests per second.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from xml.etree import ElementTree

from rich.table import Table

from perfgate.gate.claims import ClaimResult, ClaimVerdict
from perfgate.gate.verdicts import GateReport, Row, Verdict

_STYLES = {
    Verdict.REGRESSION: "bold red",
    Verdict.IMPROVEMENT: "green",
    Verdict.NO_CHANGE: "dim",
    Verdict.NOT_COMPARABLE: "yellow",
}
_CLAIM_STYLES = {
    ClaimVerdict.HOLDS: "green",
    ClaimVerdict.BROKEN: "bold red",
    ClaimVerdict.NOT_JUDGED: "yellow",
}
_UNIT_SCALES = ((1.0, "s"), (1e-3, "ms"), (1e-6, "us"), (1e-9, "ns"))


def format_value(value: float | None, unit: str) -> str:
    """Format a median in its unit; seconds are scaled to s, ms, us or ns."""
    if value is None:
        return "-"
    if unit != "s":
        return f"{value:.4g} {unit}"
    for scale, name in _UNIT_SCALES:
        if abs(value) >= scale:
            return f"{value / scale:.4g} {name}"
    return f"{value / 1e-9:.4g} ns"


def format_change(row: Row) -> str:
    """Format the ratio as a signed percentage with its interval: `+12.1% [+8.0%, +16.3%]`."""
    if row.ratio is None or row.interval is None:
        return "-"
    low, high = row.interval
    return f"{_percent(row.ratio)} [{_percent(low)}, {_percent(high)}]"


def _percent(ratio: float) -> str:
    if math.isinf(ratio):
        return "+inf"
    return f"{(ratio - 1.0) * 100.0:+.1f}%"


def summary_line(report: GateReport) -> str:
    """Return one line with the count of each verdict and the settings that produced them."""
    counts = ", ".join(f"{report.count(verdict)} {verdict.value}" for verdict in Verdict)
    settings = report.settings
    return (
        f"{counts}. Tolerance {settings.tolerance:.1%}, false discovery rate "
        f"{settings.false_discovery_rate:g}, "
        f"{settings.method} intervals at {report.confidence:.2%}."
    )


def report_table(report: GateReport) -> Table:
    """Build the terminal table of a gate report."""
    table = Table(title="Regression gate: candidate / baseline", title_justify="left")
    for column in ("benchmark", "baseline", "candidate", "change [interval]", "verdict"):
        table.add_column(column, overflow="fold")
    for row in report.rows:
        verdict = row.verdict.value if not row.reason else f"{row.verdict.value}: {row.reason}"
        table.add_row(
            row.name,
            format_value(row.baseline_median, row.unit),
            format_value(row.candidate_median, row.unit),
            format_change(row),
            f"[{_STYLES[row.verdict]}]{verdict}[/]",
        )
    table.caption = summary_line(report)
    return table


def claims_table(results: Sequence[ClaimResult]) -> Table:
    """Build the terminal table of judged claims."""
    table = Table(title="Design claims", title_justify="left")
    for column in ("claim", "bound", "measured", "verdict"):
        table.add_column(column, overflow="fold")
    for result in results:
        verdict = result.verdict.value + (f": {result.reason}" if result.reason else "")
        table.add_row(
            f"{result.claim.name}: {result.claim.text}",
            _bound(result),
            "-" if result.measured is None else f"{result.measured:.4g}",
            f"[{_CLAIM_STYLES[result.verdict]}]{verdict}[/]",
        )
    return table


def _bound(result: ClaimResult) -> str:
    claim = result.claim
    parts = []
    if claim.at_least is not None:
        parts.append(f">= {claim.at_least:g}")
    if claim.at_most is not None:
        parts.append(f"<= {claim.at_most:g}")
    tolerance = f" (tolerance {claim.tolerance:.0%})" if claim.tolerance else ""
    return " and ".join(parts) + tolerance


def render_markdown(report: GateReport | None, claims: Sequence[ClaimResult] = ()) -> str:
    """Render the report and the claims as GitHub-flavoured Markdown, regressions first."""
    lines: list[str] = []
    if report is not None:
        lines += ["## Regression gate", "", summary_line(report), ""]
        lines += [
            "| benchmark | baseline | candidate | change [interval] | verdict |",
            "|---|---|---|---|---|",
        ]
        order = [Verdict.REGRESSION, Verdict.NOT_COMPARABLE, Verdict.IMPROVEMENT, Verdict.NO_CHANGE]
        for row in sorted(report.rows, key=lambda row: order.index(row.verdict)):
            verdict = (
                f"**{row.verdict.value}**"
                if row.verdict is Verdict.REGRESSION
                else row.verdict.value
            )
            if row.reason:
                verdict += f": {row.reason}"
            cells = [
                f"`{row.name}`",
                format_value(row.baseline_median, row.unit),
                format_value(row.candidate_median, row.unit),
                format_change(row),
                verdict,
            ]
            lines.append("| " + " | ".join(_escape(cell) for cell in cells) + " |")
        for label, names in (
            ("Only in the baseline", report.only_baseline),
            ("Only in the candidate", report.only_candidate),
        ):
            if names:
                lines += ["", f"{label}: " + ", ".join(f"`{name}`" for name in names)]
        lines.append("")
    if claims:
        lines += [
            "## Design claims",
            "",
            "| claim | bound | measured | verdict |",
            "|---|---|---|---|",
        ]
        for result in claims:
            measured = "-" if result.measured is None else f"{result.measured:.4g}"
            verdict = result.verdict.value + (f": {result.reason}" if result.reason else "")
            cells = [f"{result.claim.name}: {result.claim.text}", _bound(result), measured, verdict]
            lines.append("| " + " | ".join(_escape(cell) for cell in cells) + " |")
        lines.append("")
    return "\n".join(lines)


def _escape(cell: str) -> str:
    return cell.replace("|", "\\|").replace("\n", " ")


def render_junit(report: GateReport | None, claims: Sequence[ClaimResult] = ()) -> bytes:
    """Render one JUnit test case per row and claim.

    A regression or a broken claim is a failure, a row that is not comparable or a
    claim not judged is an error, and the rest pass.
    """
    suites = ElementTree.Element("testsuites", name="perfgate gate")
    if report is not None:
        suite = _suite(suites, "regression gate", len(report.rows))
        failures = errors = 0
        for row in report.rows:
            case = ElementTree.SubElement(
                suite, "testcase", classname="perfgate.gate", name=row.name
            )
            message = f"{row.verdict.value}: {format_change(row)}" + (
                f" {row.reason}" if row.reason else ""
            )
            if row.verdict is Verdict.REGRESSION:
                failures += 1
                ElementTree.SubElement(case, "failure", message=message, type="regression")
            elif row.verdict is Verdict.NOT_COMPARABLE:
                errors += 1
                ElementTree.SubElement(case, "error", message=message, type="not comparable")
            else:
                ElementTree.SubElement(case, "system-out").text = message
        suite.set("failures", str(failures))
        suite.set("errors", str(errors))
    if claims:
        suite = _suite(suites, "design claims", len(claims))
        failures = errors = 0
        for result in claims:
            case = ElementTree.SubElement(
                suite, "testcase", classname="perfgate.claims", name=result.claim.name
            )
            measured = (
                "not measured" if result.measured is None else f"measured {result.measured:.4g}"
            )
            message = (
                f"{result.claim.text}: {measured}, bound {_bound(result)}. {result.reason}".strip()
            )
            if result.verdict is ClaimVerdict.BROKEN:
                failures += 1
                ElementTree.SubElement(case, "failure", message=message, type="broken claim")
            elif result.verdict is ClaimVerdict.NOT_JUDGED:
                errors += 1
                ElementTree.SubElement(case, "error", message=message, type="not judged")
        suite.set("failures", str(failures))
        suite.set("errors", str(errors))
    ElementTree.indent(suites)
    document: bytes = ElementTree.tostring(suites, encoding="utf-8", xml_declaration=True)
    return document + b"\n"


def _suite(parent: ElementTree.Element, name: str, tests: int) -> ElementTree.Element:
    return ElementTree.SubElement(parent, "testsuite", name=name, tests=str(tests))
