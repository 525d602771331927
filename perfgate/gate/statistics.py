"""Estimators of the change between a baseline and a candidate, and the multiple-testing rule.

Every estimator works on the ratio candidate / baseline of a series' typical value, so
"10% slower" is a ratio of 1.10 for every benchmark whatever its scale. Each one
returns a `ChangeEstimate`: the point ratio, one-sided p-values against the two
tolerance bounds, and confidence intervals at any level. The gate picks the interval
level only after the Benjamini-Hochberg step has counted the discoveries (see
`fcr_confidence`).

Samples are first reduced to batch medians (`batch_medians`). Consecutive rounds of a
benchmark are correlated (a slow second of the machine slows many rounds in a row), and
treating them as independent draws makes every interval too narrow. Medians of
contiguous batches are much closer to independent: this is the method of batch means
(Schmeiser, "Batch Size Effects in the Analysis of Simulation Output", Operations
Research 30(3), 1982), with medians for robustness to the outliers that timings have.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Callable, Sequence
from statistics import NormalDist
from typing import Protocol

import numpy as np
from scipy.special import stdtr, stdtrit

from perfgate.gate.samples import FloatArray

DEFAULT_BATCHES = 20
DEFAULT_RESAMPLES = 10_000
_STANDARD_NORMAL = NormalDist()


def batch_medians(samples: FloatArray, batches: int = DEFAULT_BATCHES) -> FloatArray:
    """Split `samples` in recording order into `batches` contiguous runs and return their medians.

    Series with no more samples than `batches` are returned unchanged. Batch sizes
    differ by at most one sample.
    """
    if batches < 1:
        raise ValueError(f"batch count must be at least 1, got {batches!r}")
    if len(samples) <= batches:
        return np.asarray(samples, dtype=np.float64)
    return np.array([np.median(part) for part in np.array_split(samples, batches)])


IntervalFunction = Callable[[float], tuple[float, float]]
"""Map a confidence level in (0, 1) to the two-sided interval of the ratio."""


@dataclasses.dataclass(frozen=True, eq=False)
class ChangeEstimate:
    """The estimated ratio candidate / baseline of one series.

    Attributes:
        ratio: the point estimate of candidate / baseline.
        p_above: one-sided p-value of the hypothesis "ratio <= upper bound"; small when
            the candidate is clearly above the upper tolerance bound.
        p_below: one-sided p-value of the hypothesis "ratio >= lower bound".
        method: the estimator's name, for reports.
    """

    ratio: float
    p_above: float
    p_below: float
    method: str
    _interval: IntervalFunction

    @property
    def p_beyond(self) -> float:
        """Two-sided p-value of "the ratio lies within the tolerance band"."""
        return min(1.0, 2.0 * min(self.p_above, self.p_below))

    def interval(self, confidence: float) -> tuple[float, float]:
        """Return the two-sided confidence interval of the ratio at `confidence` (0..1)."""
        if not 0.0 < confidence < 1.0:
            raise ValueError(f"confidence must lie strictly between 0 and 1, got {confidence!r}")
        return self._interval(confidence)


class ChangeEstimator(Protocol):
    """Estimate the ratio candidate / baseline from the samples of each repeat."""

    @property
    def name(self) -> str:
        """The method's name, for reports."""
        ...

    def estimate(
        self,
        baseline: Sequence[FloatArray],
        candidate: Sequence[FloatArray],
        lower: float,
        upper: float,
    ) -> ChangeEstimate:
        """Estimate the change; `lower` and `upper` are the tolerance bounds of the ratio."""
        ...


@dataclasses.dataclass(frozen=True)
class BootstrapMedianRatio:
    """Percentile bootstrap of the ratio of medians, resampling repeats, then samples.

    Method: the percentile interval (Efron and Tibshirani, "An Introduction to the
    Bootstrap", 1993, chapter 13). With several repeats on a side, each resample first
    draws repeats with replacement and then batch medians within each drawn repeat.
    This is the two-stage bootstrap for clustered data (Davison and Hinkley, "Bootstrap
    Methods and their Application", 1997, section 3.8), and it lets the variation
    between repeats reach the interval. The p-value against a bound is the share of
    resampled ratios on the wrong side of it, the smallest level at which the
    percentile interval excludes it.

    Attributes:
        resamples: bootstrap resamples; 10,000 resolve p-values down to 1e-4.
        batches: batch medians per repeat (see `batch_medians`).
        seed: seed of the random generator, so that a verdict can be reproduced.
    """

    resamples: int = DEFAULT_RESAMPLES
    batches: int = DEFAULT_BATCHES
    seed: int = 0
    name: str = "bootstrap"

    def estimate(
        self,
        baseline: Sequence[FloatArray],
        candidate: Sequence[FloatArray],
        lower: float,
        upper: float,
    ) -> ChangeEstimate:
        """Estimate the ratio of medians candidate / baseline with its bootstrap distribution."""
        rng = np.random.default_rng(self.seed)
        base = [batch_medians(samples, self.batches) for samples in baseline]
        cand = [batch_medians(samples, self.batches) for samples in candidate]
        ratio = float(np.median(np.concatenate(cand)) / np.median(np.concatenate(base)))

        resampled = _resample_medians(cand, self.resamples, rng) / _resample_medians(
            base, self.resamples, rng
        )
        resampled.sort()
        total = len(resampled) + 1
        p_above = (1 + int(np.searchsorted(resampled, upper, side="right"))) / total
        p_below = (1 + len(resampled) - int(np.searchsorted(resampled, lower, side="left"))) / total
        return ChangeEstimate(
            ratio,
            min(p_above, 1.0),
            min(p_below, 1.0),
            self.name,
            functools.partial(_percentile_interval, resampled),
        )


def _resample_medians(
    repeats: Sequence[FloatArray], resamples: int, rng: np.random.Generator
) -> FloatArray:
    """Draw `resamples` two-stage bootstrap medians: repeats with replacement, then values."""
    count = len(repeats)
    width = max(len(values) for values in repeats)
    padded = np.zeros((count, width))
    sizes = np.array([len(values) for values in repeats])
    for index, values in enumerate(repeats):
        padded[index, : len(values)] = values

    chosen = rng.integers(0, count, size=(resamples, count))
    # Each chosen repeat contributes `width` draws from its own values, so every repeat
    # weighs the same whatever its sample count.
    if bool(np.all(sizes == width)):
        positions = rng.integers(0, width, size=(resamples, count, width))
    else:
        positions = rng.integers(0, sizes[chosen][:, :, None], size=(resamples, count, width))
    drawn = padded.ravel()[chosen[:, :, None] * width + positions]
    return _row_medians(drawn.reshape(resamples, count * width))


def _row_medians(matrix: FloatArray) -> FloatArray:
    """Return the median of each row; sorting is ten times faster than np.median here."""
    ordered = np.sort(matrix, axis=1)
    middle = ordered.shape[1] // 2
    if ordered.shape[1] % 2:
        return ordered[:, middle]
    medians: FloatArray = (ordered[:, middle - 1] + ordered[:, middle]) / 2.0
    return medians


def _percentile_interval(sorted_values: FloatArray, confidence: float) -> tuple[float, float]:
    tail = (1.0 - confidence) / 2.0
    low, high = np.quantile(sorted_values, [tail, 1.0 - tail])
    return float(low), float(high)


@dataclasses.dataclass(frozen=True)
class HodgesLehmannRatio:
    """Hodges-Lehmann shift of log samples with Mann-Whitney p-values and the Moses interval.

    Method: on the logarithms of the batch medians, the shift estimate is the median of
    all pairwise differences candidate - baseline (Hodges and Lehmann, "Estimates of
    Location Based on Rank Tests", Annals of Mathematical Statistics 34, 1963). Its
    distribution-free interval takes order statistics of those differences at the
    Mann-Whitney critical value (Moses; Hollander, Wolfe and Chicken, "Nonparametric
    Statistical Methods", 3rd ed., 2014, section 4.3), here from the normal
    approximation. A log shift is a ratio, so the results are exponentiated.

    NOTE: repeats are pooled, so the interval reflects the variation inside runs and
    not the variation between repeats; the bootstrap resamples repeats.

    Attributes:
        batches: batch medians per repeat (see `batch_medians`).
    """

    batches: int = DEFAULT_BATCHES
    name: str = "hodges-lehmann"

    def estimate(
        self,
        baseline: Sequence[FloatArray],
        candidate: Sequence[FloatArray],
        lower: float,
        upper: float,
    ) -> ChangeEstimate:
        """Estimate the ratio candidate / baseline as the exponent of the log-scale shift."""
        base = np.log(np.concatenate([batch_medians(values, self.batches) for values in baseline]))
        cand = np.log(np.concatenate([batch_medians(values, self.batches) for values in candidate]))
        differences = np.sort(np.subtract.outer(cand, base).ravel())
        sizes = (len(base), len(cand))

        ratio = math.exp(float(np.median(differences)))
        p_above = _mann_whitney_p_above(differences, sizes, math.log(upper))
        p_below = _mann_whitney_p_above(-differences[::-1], sizes, -math.log(lower))
        interval = functools.partial(_moses_interval, differences, sizes)
        return ChangeEstimate(ratio, p_above, p_below, self.name, interval)


def _mann_whitney_p_above(differences: FloatArray, sizes: tuple[int, int], shift: float) -> float:
    """One-sided p-value of "shift <= `shift`" from the Mann-Whitney U of shifted samples.

    U counts the pairs whose difference exceeds `shift` (ties count one half). Under the
    hypothesis it has mean nm/2 and variance nm(n+m+1)/12.
    """
    n, m = sizes
    below = int(np.searchsorted(differences, shift, side="left"))
    not_above = int(np.searchsorted(differences, shift, side="right"))
    u_statistic = (len(differences) - not_above) + 0.5 * (not_above - below)
    mean = n * m / 2.0
    deviation = math.sqrt(n * m * (n + m + 1) / 12.0)
    return 1.0 - _STANDARD_NORMAL.cdf((u_statistic - mean) / deviation)


def _moses_interval(
    differences: FloatArray, sizes: tuple[int, int], confidence: float
) -> tuple[float, float]:
    n, m = sizes
    z = _STANDARD_NORMAL.inv_cdf(0.5 + confidence / 2.0)
    # The k-th smallest and the k-th largest pairwise differences bound the interval.
    k = math.floor(n * m / 2.0 - z * math.sqrt(n * m * (n + m + 1) / 12.0))
    k = min(max(k, 0), len(differences) // 2)
    if k == 0:
        return 0.0, math.inf
    low = math.exp(float(differences[k - 1]))
    high = math.exp(float(differences[len(differences) - k]))
    return low, high


@dataclasses.dataclass(frozen=True)
class WelchRepeatRatio:
    """Welch's t interval on the log medians of the repeats: the repeat is the unit.

    Method: each repeat (one process, one run) gives one value, the log of its median
    sample, so the variation between runs, which dominates on a shared machine, is
    the variance the interval uses. The difference of the two sides' mean log medians
    gets Welch's standard error and the Welch-Satterthwaite degrees of freedom (B. L.
    Welch, "The generalization of 'Student's' problem when several different
    population variances are involved", Biometrika 34, 1947), and is exponentiated
    into a ratio of geometric means of the repeats' medians. It needs at least two
    repeats on each side.

    With `statistic = "min"` each repeat's value is its fastest sample instead of its
    median. Noise from other processes only adds time, so the minimum is the most
    stable estimate of a benchmark's own cost on a busy machine (J. Chen and J.
    Revels, "Robust benchmarking in noisy environments", arXiv:1608.04295, 2016).
    """

    statistic: str = "median"
    name: str = "welch"

    def estimate(
        self,
        baseline: Sequence[FloatArray],
        candidate: Sequence[FloatArray],
        lower: float,
        upper: float,
    ) -> ChangeEstimate:
        """Estimate the ratio candidate / baseline from the repeats' log medians.

        Raises:
            ValueError: a side has fewer than two repeats.
        """
        if len(baseline) < 2 or len(candidate) < 2:
            counts = f"{len(baseline)} and {len(candidate)}"
            raise ValueError(f"Welch's interval needs 2 repeats per side, got {counts}")
        base = np.log([_repeat_value(values, self.statistic) for values in baseline])
        cand = np.log([_repeat_value(values, self.statistic) for values in candidate])
        shift = float(cand.mean() - base.mean())
        base_term = float(base.var(ddof=1)) / len(base)
        cand_term = float(cand.var(ddof=1)) / len(cand)
        # Equal medians in every repeat give no spread; a floor of 1e-6 in log units
        # (0.0001%) keeps the statistics finite without widening real intervals.
        error = max(math.sqrt(base_term + cand_term), 1e-6)
        denominator = (base_term**2 / (len(base) - 1)) + (cand_term**2 / (len(cand) - 1))
        freedom = (
            (base_term + cand_term) ** 2 / denominator
            if denominator > 0
            else len(base) + len(cand) - 2.0
        )

        # stdtr(df, t) is Student's t CDF, so stdtr(df, -t) is its upper tail beyond t.
        p_above = float(stdtr(freedom, -(shift - math.log(upper)) / error))
        p_below = float(stdtr(freedom, -(math.log(lower) - shift) / error))
        interval = functools.partial(_t_interval, shift, error, freedom)
        return ChangeEstimate(math.exp(shift), p_above, p_below, self.name, interval)


@dataclasses.dataclass(frozen=True)
class PairedRepeatRatio:
    """Student's paired t interval on the log ratio of the i-th candidate and baseline repeats.

    Method: the i-th repeat of each side forms a pair, as `perfgate bench --ab` writes
    them: base and candidate measured next to each other in time. Each pair gives one
    difference of log medians, so a slow spell of the machine that hits both members
    of a pair cancels out. The mean difference gets Student's t interval with n - 1
    degrees of freedom (Student, "The probable error of a mean", Biometrika 6, 1908).
    It needs the same number of repeats, at least two, on each side. `statistic`
    works as in `WelchRepeatRatio`.
    """

    statistic: str = "median"
    name: str = "paired"

    def estimate(
        self,
        baseline: Sequence[FloatArray],
        candidate: Sequence[FloatArray],
        lower: float,
        upper: float,
    ) -> ChangeEstimate:
        """Estimate the ratio candidate / baseline from the pairs' log ratios.

        Raises:
            ValueError: the sides have different repeat counts, or fewer than two.
        """
        if len(baseline) != len(candidate) or len(baseline) < 2:
            counts = f"{len(baseline)} and {len(candidate)}"
            raise ValueError(f"paired repeats need equal counts of 2 or more, got {counts}")
        differences = np.log(
            [
                _repeat_value(c, self.statistic) / _repeat_value(b, self.statistic)
                for b, c in zip(baseline, candidate, strict=True)
            ]
        )
        shift = float(differences.mean())
        error = max(float(differences.std(ddof=1)) / math.sqrt(len(differences)), 1e-6)
        freedom = float(len(differences) - 1)

        p_above = float(stdtr(freedom, -(shift - math.log(upper)) / error))
        p_below = float(stdtr(freedom, -(math.log(lower) - shift) / error))
        interval = functools.partial(_t_interval, shift, error, freedom)
        return ChangeEstimate(math.exp(shift), p_above, p_below, self.name, interval)


REPEAT_STATISTICS = ("median", "min")


def _repeat_value(samples: FloatArray, statistic: str) -> float:
    """Return one repeat's value: the median of its samples, or their minimum."""
    if statistic == "min":
        return float(np.min(samples))
    return float(np.median(samples))


def _t_interval(
    shift: float, error: float, freedom: float, confidence: float
) -> tuple[float, float]:
    half = float(stdtrit(freedom, 0.5 + confidence / 2.0)) * error
    # Few degrees of freedom at a high level can give bounds beyond a float's range.
    return _bounded_exp(shift - half), _bounded_exp(shift + half)


def _bounded_exp(value: float) -> float:
    return math.exp(max(min(value, 700.0), -700.0))


def benjamini_hochberg(p_values: Sequence[float], rate: float) -> int:
    """Return how many hypotheses the Benjamini-Hochberg step-up procedure rejects at `rate`.

    Method: Benjamini and Hochberg, "Controlling the False Discovery Rate", Journal of
    the Royal Statistical Society B 57(1), 1995. The rejected ones are exactly those
    whose p-value is at most R * rate / m, where R is the returned count.
    """
    if not 0.0 < rate < 1.0:
        raise ValueError(f"false discovery rate must lie strictly between 0 and 1, got {rate!r}")
    ordered = sorted(p_values)
    total = len(ordered)
    rejected = 0
    for rank, p_value in enumerate(ordered, start=1):
        if p_value <= rank * rate / total:
            rejected = rank
    return rejected


def fcr_confidence(rejected: int, total: int, rate: float) -> float:
    """Return the confidence level of the intervals reported beside a Benjamini-Hochberg step.

    Method: false coverage-statement rate intervals (Benjamini and Yekutieli, "False
    Discovery Rate-Adjusted Multiple Confidence Intervals for Selected Parameters",
    JASA 100, 2005): after R of m selections, intervals at level 1 - R * rate / m keep
    the expected share of selected intervals that miss their parameter below `rate`.
    A series' p-value is at most R * rate / m exactly when its interval at this level
    lies outside the tolerance band (up to the estimator's resolution), so the gate's
    rule "the whole interval lies beyond the tolerance" follows the step. With no
    selection the level is 1 - rate / m.
    """
    if total < 1:
        return 1.0 - rate
    return 1.0 - max(rejected, 1) * rate / total
