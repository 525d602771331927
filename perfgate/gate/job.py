"""One gate job as the CLI runs it: read the inputs, judge, write the requested files.

`run_gate` is the library entry point of `perfgate gate`. It returns the verdicts
and the exit code, and writes the Markdown and JUnit files when asked; it prints
nothing.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence
from pathlib import Path

from perfgate.errors import EXIT_FAILED, EXIT_INVALID, EXIT_PASSED, EXIT_USAGE, ConfigError
from perfgate.gate.claims import ClaimResult, ClaimVerdict, judge_claims, load_claims
from perfgate.gate.loaders import load_side
from perfgate.gate.outputs import render_junit, render_markdown
from perfgate.gate.verdicts import GateReport, GateSettings, judge
from perfgate.results.store import write_atomic

logger = logging.getLogger(__name__)

# When several outcomes occur, the first in this order decides the exit code.
_EXIT_PRIORITY = (EXIT_FAILED, EXIT_INVALID, EXIT_USAGE, EXIT_PASSED)


@dataclasses.dataclass(frozen=True)
class GateRequest:
    """A gate job: the inputs to judge and the files to write.

    Attributes:
        baseline: baseline files or run folders (repeats), empty with claims only.
        candidate: candidate files or run folders, empty with claims only.
        claims: a claims file to judge against `claim_results`.
        claim_results: the run(s) the claims are judged on.
        settings: how the regression gate judges.
        markdown: where to write the Markdown summary, if anywhere.
        junit: where to write JUnit XML, if anywhere.
        allow_missing: let claims whose benchmarks are missing pass instead of exit 2.
    """

    baseline: tuple[Path, ...] = ()
    candidate: tuple[Path, ...] = ()
    claims: Path | None = None
    claim_results: tuple[Path, ...] = ()
    settings: GateSettings = dataclasses.field(default_factory=GateSettings)
    markdown: Path | None = None
    junit: Path | None = None
    allow_missing: bool = False


@dataclasses.dataclass(frozen=True)
class GateOutcome:
    """The verdicts of one job and the exit code they lead to."""

    report: GateReport | None
    claims: tuple[ClaimResult, ...]
    exit_code: int


def parse_share(text: str) -> float:
    """Parse a share written as `5%` or `0.05` into 0.05.

    Raises:
        ConfigError: the text is not a number or a percentage.
    """
    cleaned = text.strip()
    try:
        if cleaned.endswith("%"):
            return float(cleaned[:-1]) / 100.0
        return float(cleaned)
    except ValueError:
        raise ConfigError(
            f"invalid share {text!r}; write a percentage such as 5% or a fraction such as 0.05"
        ) from None


def run_gate(request: GateRequest) -> GateOutcome:
    """Judge the candidate against the baseline and the claims, then write the requested files.

    Raises:
        ConfigError: neither a comparison nor a claims file was requested, or only one
            side of a comparison was given.
        ResultsError: an input cannot be read or the sides have no benchmark in common.
    """
    comparing = bool(request.baseline or request.candidate)
    if comparing and not (request.baseline and request.candidate):
        missing = "--candidate" if request.baseline else "--baseline"
        raise ConfigError(f"{missing} is missing; a comparison needs a baseline and a candidate")
    if not comparing and request.claims is None:
        raise ConfigError(
            "nothing to judge; pass --baseline and --candidate, or --claims FILE RESULTS"
        )
    if request.claims is not None and not request.claim_results:
        raise ConfigError(
            "--claims needs the results to judge; pass a pytest-benchmark JSON file after it"
        )

    report = None
    if comparing:
        report = judge(
            load_side(request.baseline, "baseline"),
            load_side(request.candidate, "candidate"),
            request.settings,
        )
    claim_results: tuple[ClaimResult, ...] = ()
    if request.claims is not None:
        claim_results = judge_claims(
            load_claims(request.claims), load_side(request.claim_results, "results")
        )

    if request.markdown is not None:
        request.markdown.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(request.markdown, render_markdown(report, claim_results).encode("utf-8"))
        logger.info("wrote the Markdown summary to %s", request.markdown)
    if request.junit is not None:
        request.junit.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(request.junit, render_junit(report, claim_results))
        logger.info("wrote JUnit XML to %s", request.junit)
    return GateOutcome(
        report, claim_results, _exit_code(report, claim_results, request.allow_missing)
    )


def _exit_code(
    report: GateReport | None, claims: Sequence[ClaimResult], allow_missing: bool
) -> int:
    codes = {EXIT_PASSED}
    if report is not None:
        codes.add(report.exit_code)
    if any(result.verdict is ClaimVerdict.BROKEN for result in claims):
        codes.add(EXIT_FAILED)
    if not allow_missing and any(result.verdict is ClaimVerdict.NOT_JUDGED for result in claims):
        codes.add(EXIT_USAGE)
    return next(code for code in _EXIT_PRIORITY if code in codes)
