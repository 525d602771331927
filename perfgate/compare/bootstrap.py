"""Bootstrap confidence intervals for the change between two sets of repeated runs.

Each side is a handful of repeats, one value per run (for example each run's p99).
The interval is the percentile bootstrap: resample each side's repeats with
replacement, compute the change between the two resampled means, repeat, and take
the central `confidence` share of those changes. The runs are the independent units.
Requests inside one run share the run's machine state, so resampling requests
would give intervals far too narrow.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
ChangeFunction = Callable[[FloatArray, FloatArray], FloatArray]

DEFAULT_RESAMPLES = 5_000
DEFAULT_CONFIDENCE = 0.95
MIN_REPEATS = 2


def relative_change(baseline: FloatArray, candidate: FloatArray) -> FloatArray:
    """Return `candidate / baseline - 1` elementwise (0.1 is 10% up); NaN for a zero baseline."""
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = candidate / baseline - 1.0
    return np.where(baseline > 0, ratio, np.nan)


def absolute_change(baseline: FloatArray, candidate: FloatArray) -> FloatArray:
    """Return `candidate - baseline` elementwise, in the metric's own unit."""
    return candidate - baseline


def bootstrap_interval(
    baseline: Sequence[float],
    candidate: Sequence[float],
    change: ChangeFunction,
    *,
    confidence: float = DEFAULT_CONFIDENCE,
    resamples: int = DEFAULT_RESAMPLES,
    seed: int = 0,
) -> tuple[float, float] | None:
    """Compute a percentile bootstrap interval of `change(mean(baseline), mean(candidate))`.

    Returns:
        The interval's (low, high), or None when either side has fewer than two
        repeats or the change is undefined (a zero baseline for a relative change).

    Raises:
        ValueError: `confidence` is not strictly between 0 and 1, or `resamples` < 100.
    """
    if not 0.0 < confidence < 1.0:
        msg = f"invalid confidence {confidence!r}; pass a share such as 0.95"
        raise ValueError(msg)
    if resamples < 100:
        msg = f"invalid resamples {resamples!r}; at least 100 are needed for a stable interval"
        raise ValueError(msg)
    if len(baseline) < MIN_REPEATS or len(candidate) < MIN_REPEATS:
        return None

    # NOTE: with fewer than about 5 repeats a side, the percentile bootstrap draws only
    # a few distinct resamples, so its interval is narrower than the true uncertainty.
    rng = np.random.default_rng(seed)
    baseline_means = _resampled_means(rng, np.asarray(baseline, dtype=np.float64), resamples)
    candidate_means = _resampled_means(rng, np.asarray(candidate, dtype=np.float64), resamples)
    changes = change(baseline_means, candidate_means)
    changes = changes[np.isfinite(changes)]
    if len(changes) < resamples // 2:
        return None

    tail = (1.0 - confidence) / 2.0
    low, high = np.quantile(changes, [tail, 1.0 - tail])
    return float(low), float(high)


def _resampled_means(rng: np.random.Generator, values: FloatArray, resamples: int) -> FloatArray:
    """Draw `resamples` resamples of `values` with replacement and return their means."""
    picks = rng.integers(0, len(values), size=(resamples, len(values)))
    means: FloatArray = values[picks].mean(axis=1)
    return means
