"""Compare a candidate with a baseline, series by series, and decide the gate's outcome.

For each series both sides share, the gate estimates the ratio candidate / baseline
with a confidence interval. It calls a regression only when the whole interval lies
beyond the tolerance on the bad side, and an improvement when it lies on the good side. Across all
series the Benjamini-Hochberg step controls the false discovery rate, and the
intervals are reported at the level that keeps them consistent with it (see
`perfgate.gate.statistics.fcr_confidence`). A row that cannot be judged carries the reason.
"""

from __future__ import annotations

import dataclasses
import enum
import logging

import numpy as np

from perfgate.errors import (
    EXIT_FAILED,
    EXIT_INVALID,
    EXIT_PASSED,
    EXIT_USAGE,
    ConfigError,
    ResultsError,
)
from perfgate.gate.samples import ResultSet, Series, SourceKind
from perfgate.gate.statistics import (
    REPEAT_STATISTICS,
    BootstrapMedianRatio,
    ChangeEstimate,
    ChangeEstimator,
    HodgesLehmannRatio,
    PairedRepeatRatio,
    WelchRepeatRatio,
    benjamini_hochberg,
    fcr_confidence,
)

logger = logging.getLogger(__name__)

METHODS = ("welch", "paired", "bootstrap", "hodges-lehmann")
DEFAULT_METHOD = "welch"
DEFAULT_TOLERANCE = 0.05
DEFAULT_FALSE_DISCOVERY_RATE = 0.01
DEFAULT_MIN_SAMPLES = 5


class Verdict(enum.Enum):
    """The outcome of one row of the gate."""

    REGRESSION = "regression"
    IMPROVEMENT = "improvement"
    NO_CHANGE = "no change"
    NOT_COMPARABLE = "not comparable"


@dataclasses.dataclass(frozen=True)
class GateSettings:
    """Settings of one comparison.

    Attributes:
        tolerance: the relative change that counts as no change, 0.05 for 5%.
        false_discovery_rate: the Benjamini-Hochberg rate over all rows.
        method: `welch` (repeats as the unit; the default), `paired`, `bootstrap`
            (ratio of medians) or `hodges-lehmann`; see `perfgate.gate.statistics`.
        statistic: the value `welch` and `paired` take from each repeat: `min`,
            `median`, or `auto` for the minimum of benchmark timings and the median
            of run metrics. Contention on a shared machine only adds time, so the
            fastest round moved less than half as much between runs as the median
            (see docs/BENCHMARKS.md). Per-second metrics of a load test are not
            such timings.
        min_samples: samples each side needs for a row to be judged.
        allow_mismatch: judge even when machines or parameters differ.
    """

    tolerance: float = DEFAULT_TOLERANCE
    false_discovery_rate: float = DEFAULT_FALSE_DISCOVERY_RATE
    method: str = DEFAULT_METHOD
    min_samples: int = DEFAULT_MIN_SAMPLES
    allow_mismatch: bool = False
    statistic: str = "auto"

    def __post_init__(self) -> None:
        """Reject settings the statistics cannot use, naming the value."""
        if not 0.0 <= self.tolerance < 1.0:
            raise ConfigError(
                f"invalid tolerance {self.tolerance!r}; use a share such as 0.05 or 5%"
            )
        if not 0.0 < self.false_discovery_rate < 1.0:
            rate = self.false_discovery_rate
            raise ConfigError(f"invalid false discovery rate {rate!r}; use a share such as 0.01")
        if self.method not in METHODS:
            raise ConfigError(
                f"unknown gate method {self.method!r}; use one of {', '.join(METHODS)}"
            )
        if self.statistic not in ("auto", *REPEAT_STATISTICS):
            known = ", ".join(("auto", *REPEAT_STATISTICS))
            raise ConfigError(f"unknown repeat statistic {self.statistic!r}; use one of {known}")
        if self.min_samples < 2:
            raise ConfigError(f"invalid minimum sample count {self.min_samples!r}; use 2 or more")

    def estimator(self, kind: SourceKind) -> ChangeEstimator:
        """Return the estimator that `method` names, for results of `kind`."""
        statistic = self.statistic
        if statistic == "auto":
            statistic = "min" if kind is SourceKind.PYTEST_BENCHMARK else "median"
        if self.method == "hodges-lehmann":
            return HodgesLehmannRatio()
        if self.method == "welch":
            return WelchRepeatRatio(statistic=statistic)
        if self.method == "paired":
            return PairedRepeatRatio(statistic=statistic)
        return BootstrapMedianRatio()


@dataclasses.dataclass(frozen=True)
class Row:
    """The gate's outcome for one series.

    Attributes:
        name: the series' full name.
        unit: the unit of the medians (`s`, `ms` or `rps`).
        verdict: the outcome.
        reason: why the row is not comparable; empty otherwise.
        baseline_median: the baseline's median sample, None when not computed.
        candidate_median: the candidate's median sample.
        ratio: the estimated ratio candidate / baseline.
        interval: the confidence interval of the ratio at the report's level.
        p_value: the two-sided p-value of "the change lies within the tolerance".
        baseline_samples: the baseline's sample count over all repeats.
        candidate_samples: the candidate's sample count.
        higher_is_better: True for throughput rows.
    """

    name: str
    unit: str
    verdict: Verdict
    reason: str = ""
    baseline_median: float | None = None
    candidate_median: float | None = None
    ratio: float | None = None
    interval: tuple[float, float] | None = None
    p_value: float | None = None
    baseline_samples: int = 0
    candidate_samples: int = 0
    higher_is_better: bool = False


@dataclasses.dataclass(frozen=True)
class GateReport:
    """Every row of one comparison and what the gate concluded.

    Attributes:
        rows: one row per series present on both sides, in baseline order.
        only_baseline: series missing from the candidate (removed benchmarks).
        only_candidate: series missing from the baseline (new benchmarks).
        confidence: the level of every reported interval.
        settings: the settings used.
        baseline_sources: the baseline's files or folders.
        candidate_sources: the candidate's files or folders.
        invalid: whether a side contains an invalid run.
    """

    rows: tuple[Row, ...]
    only_baseline: tuple[str, ...]
    only_candidate: tuple[str, ...]
    confidence: float
    settings: GateSettings
    baseline_sources: tuple[str, ...]
    candidate_sources: tuple[str, ...]
    invalid: bool = False

    def count(self, verdict: Verdict) -> int:
        """Return how many rows have `verdict`."""
        return sum(1 for row in self.rows if row.verdict is verdict)

    @property
    def exit_code(self) -> int:
        """The CLI's exit code: 1 regression, else 3 invalid run, else 2 not comparable, else 0."""
        if self.count(Verdict.REGRESSION):
            return EXIT_FAILED
        if self.invalid:
            return EXIT_INVALID
        if self.count(Verdict.NOT_COMPARABLE):
            return EXIT_USAGE
        return EXIT_PASSED


def judge(
    baseline: ResultSet, candidate: ResultSet, settings: GateSettings | None = None
) -> GateReport:
    """Compare `candidate` with `baseline` and return every row with its verdict.

    Raises:
        ResultsError: the sides are of different kinds, or have no series in common.
    """
    settings = settings or GateSettings()
    if baseline.kind is not candidate.kind:
        raise ResultsError(
            f"the baseline contains {baseline.kind.value} results and the candidate "
            f"{candidate.kind.value} results; compare like with like"
        )
    common = [name for name in baseline.series if name in candidate.series]
    if not common:
        raise ResultsError(
            "the baseline and the candidate have no benchmark in common "
            f"(baseline: {_preview(baseline)}; candidate: {_preview(candidate)}); "
            "run the same suite on both sides"
        )

    side_reasons = _side_reasons(baseline, candidate, settings)
    lower, upper = 1.0 - settings.tolerance, 1.0 + settings.tolerance
    estimator = settings.estimator(baseline.kind)
    estimates: dict[str, ChangeEstimate] = {}
    reasons: dict[str, str] = {}
    for name in common:
        base, cand = baseline.series[name], candidate.series[name]
        reason = side_reasons or _series_reason(base, cand, settings, baseline.kind)
        if reason:
            reasons[name] = reason
            continue
        estimates[name] = estimator.estimate(base.repeats, cand.repeats, lower, upper)

    p_values = [estimate.p_beyond for estimate in estimates.values()]
    rate = settings.false_discovery_rate
    rejected = benjamini_hochberg(p_values, rate) if p_values else 0
    confidence = fcr_confidence(rejected, len(estimates), rate)
    logger.debug(
        "judged %d series, %d selected, intervals at %.5f", len(estimates), rejected, confidence
    )

    rows = tuple(
        _row(
            baseline.series[name],
            candidate.series[name],
            estimates.get(name),
            reason=reasons.get(name, ""),
            confidence=confidence,
            bounds=(lower, upper),
        )
        for name in common
    )
    return GateReport(
        rows=rows,
        only_baseline=tuple(name for name in baseline.series if name not in candidate.series),
        only_candidate=tuple(name for name in candidate.series if name not in baseline.series),
        confidence=confidence,
        settings=settings,
        baseline_sources=baseline.sources,
        candidate_sources=candidate.sources,
        invalid=bool(baseline.invalid_reasons or candidate.invalid_reasons),
    )


def _preview(results: ResultSet, shown: int = 3) -> str:
    names = list(results.series)
    if not names:
        return "no benchmarks"
    more = f" and {len(names) - shown} more" if len(names) > shown else ""
    return ", ".join(names[:shown]) + more


def _side_reasons(baseline: ResultSet, candidate: ResultSet, settings: GateSettings) -> str:
    invalid = baseline.invalid_reasons + candidate.invalid_reasons
    if invalid:
        return "; ".join(invalid)
    if settings.allow_mismatch or baseline.machine == candidate.machine:
        return ""
    keys = sorted(set(baseline.machine) | set(candidate.machine))
    differences = [
        f"{key} {baseline.machine.get(key)!r} vs {candidate.machine.get(key)!r}"
        for key in keys
        if baseline.machine.get(key) != candidate.machine.get(key)
    ]
    return f"different machine: {', '.join(differences)} (pass --allow-mismatch to judge anyway)"


def _series_reason(base: Series, cand: Series, settings: GateSettings, kind: SourceKind) -> str:
    if not settings.allow_mismatch and base.parameters != cand.parameters:
        keys = sorted(set(base.parameters) | set(cand.parameters))
        differences = [
            f"{key} {base.parameters.get(key)!r} vs {cand.parameters.get(key)!r}"
            for key in keys
            if base.parameters.get(key) != cand.parameters.get(key)
        ]
        return f"different parameters: {', '.join(differences)}"
    if settings.method == "paired" and len(base.repeats) != len(cand.repeats):
        return (
            f"the baseline has {len(base.repeats)} repeats and the candidate "
            f"{len(cand.repeats)}; the paired method needs the same number on both sides"
        )
    for side, series in (("baseline", base), ("candidate", cand)):
        reason = _side_sample_reason(side, series, settings, kind)
        if reason:
            return reason
    return ""


def _side_sample_reason(side: str, series: Series, settings: GateSettings, kind: SourceKind) -> str:
    repeats = len(series.repeats)
    if settings.method in ("welch", "paired") and repeats < 2:
        return (
            f"the {side} has {repeats} repeat, and the {settings.method} method needs 2 per "
            "side; rerun with perfgate bench --repeat 5 or use --method bootstrap"
        )
    if series.sample_count < settings.min_samples:
        fix = (
            f"rerun with --benchmark-min-rounds={settings.min_samples} or more"
            if kind is SourceKind.PYTEST_BENCHMARK
            else "lengthen the measurement window"
        )
        noun = "sample" if series.sample_count == 1 else "samples"
        return (
            f"too few samples: the {side} has {series.sample_count} {noun}, "
            f"the gate needs {settings.min_samples}; {fix}"
        )
    pooled = series.pooled()
    if settings.method == "hodges-lehmann" and float(pooled.min()) <= 0.0:
        return (
            f"the {side} has samples <= 0, which a log-scale shift cannot use; "
            "use --method bootstrap"
        )
    if settings.method in ("welch", "paired") and min(map(np.median, series.repeats)) <= 0.0:
        return (
            f"a {side} repeat has a median <= 0, which a log ratio cannot use; "
            "use --method bootstrap"
        )
    median = float(np.median(pooled))
    if median <= 0.0:
        return f"the {side}'s median is {median!r}, so no ratio exists"
    return ""


def _row(
    base: Series,
    cand: Series,
    estimate: ChangeEstimate | None,
    *,
    reason: str,
    confidence: float,
    bounds: tuple[float, float],
) -> Row:
    if estimate is None:
        return Row(
            name=base.name,
            unit=base.unit,
            verdict=Verdict.NOT_COMPARABLE,
            reason=reason,
            baseline_samples=base.sample_count,
            candidate_samples=cand.sample_count,
            higher_is_better=base.higher_is_better,
        )

    low, high = estimate.interval(confidence)
    lower, upper = bounds
    above_band = low > upper
    below_band = high < lower
    worse, better = (below_band, above_band) if base.higher_is_better else (above_band, below_band)
    if worse:
        verdict = Verdict.REGRESSION
    elif better:
        verdict = Verdict.IMPROVEMENT
    else:
        verdict = Verdict.NO_CHANGE
    return Row(
        name=base.name,
        unit=base.unit,
        verdict=verdict,
        baseline_median=float(np.median(base.pooled())),
        candidate_median=float(np.median(cand.pooled())),
        ratio=estimate.ratio,
        interval=(low, high),
        p_value=estimate.p_beyond,
        baseline_samples=base.sample_count,
        candidate_samples=cand.sample_count,
        higher_is_better=base.higher_is_better,
    )
