"""The estimators of change and the multiple-testing rule."""

from __future__ import annotations

import math

import numpy as np
import pytest

from perfgate.gate.statistics import (
    BootstrapMedianRatio,
    ChangeEstimator,
    HodgesLehmannRatio,
    PairedRepeatRatio,
    WelchRepeatRatio,
    batch_medians,
    benjamini_hochberg,
    fcr_confidence,
)

ESTIMATORS = [
    pytest.param(BootstrapMedianRatio(), id="bootstrap"),
    pytest.param(HodgesLehmannRatio(), id="hodges-lehmann"),
    pytest.param(WelchRepeatRatio(), id="welch"),
    pytest.param(PairedRepeatRatio(), id="paired"),
]


def _repeats(seed: int, scale: float, repeats: int = 4, count: int = 200) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [scale * rng.lognormal(0.0, 0.02, count) for _ in range(repeats)]


def test_batch_medians_follow_recording_order() -> None:
    samples = np.array([1.0, 2.0, 3.0, 10.0, 20.0, 30.0])

    assert list(batch_medians(samples, batches=2)) == [2.0, 20.0]


def test_batch_medians_keep_short_series() -> None:
    samples = np.array([3.0, 1.0, 2.0])

    assert list(batch_medians(samples, batches=5)) == [3.0, 1.0, 2.0]


def test_batch_medians_reject_zero_batches() -> None:
    with pytest.raises(ValueError, match="batch count must be at least 1, got 0"):
        batch_medians(np.ones(4), batches=0)


@pytest.mark.parametrize("estimator", ESTIMATORS)
def test_estimator_finds_a_twenty_percent_slowdown(estimator: ChangeEstimator) -> None:
    estimate = estimator.estimate(_repeats(1, 1.0), _repeats(2, 1.2), 0.95, 1.05)

    low, high = estimate.interval(0.99)
    assert estimate.ratio == pytest.approx(1.2, rel=0.02)
    assert low > 1.05
    assert high < 1.35
    assert estimate.p_above < 0.001
    assert estimate.p_below > 0.99
    assert estimate.p_beyond < 0.002


@pytest.mark.parametrize("estimator", ESTIMATORS)
def test_estimator_stays_inside_band_on_equal_sides(estimator: ChangeEstimator) -> None:
    estimate = estimator.estimate(_repeats(3, 1.0), _repeats(4, 1.0), 0.95, 1.05)

    low, high = estimate.interval(0.99)
    assert estimate.ratio == pytest.approx(1.0, rel=0.02)
    assert 0.95 < low <= 1.0 <= high < 1.05
    assert estimate.p_beyond == pytest.approx(1.0, abs=0.01)


@pytest.mark.parametrize("estimator", ESTIMATORS)
def test_interval_widens_with_confidence(estimator: ChangeEstimator) -> None:
    estimate = estimator.estimate(_repeats(5, 1.0), _repeats(6, 1.1), 0.95, 1.05)

    narrow = estimate.interval(0.9)
    wide = estimate.interval(0.999)
    assert wide[0] <= narrow[0]
    assert wide[1] >= narrow[1]


@pytest.mark.parametrize("confidence", [0.0, 1.0, 1.5], ids=["zero", "one", "above-one"])
def test_interval_rejects_invalid_confidence(confidence: float) -> None:
    estimate = HodgesLehmannRatio().estimate(_repeats(1, 1.0), _repeats(2, 1.0), 0.95, 1.05)

    with pytest.raises(ValueError, match="confidence must lie strictly between 0 and 1"):
        estimate.interval(confidence)


def test_welch_sees_variation_between_repeats() -> None:
    # Each repeat is tight inside but the repeats disagree by 30%, as runs on a busy
    # machine do: the within-run methods are sure, the repeat-level one is not.
    rng = np.random.default_rng(7)
    base = [level * rng.lognormal(0.0, 0.01, 200) for level in (1.0, 1.3, 1.0)]
    cand = [level * rng.lognormal(0.0, 0.01, 200) for level in (1.3, 1.3, 1.0)]

    welch = WelchRepeatRatio().estimate(base, cand, 0.95, 1.05)
    pooled = HodgesLehmannRatio().estimate(base, cand, 0.95, 1.05)

    welch_low, welch_high = welch.interval(0.99)
    pooled_low, pooled_high = pooled.interval(0.99)
    assert welch_low < 0.95
    assert welch_high > 1.05
    assert pooled_high - pooled_low < (welch_high - welch_low) / 3


def test_minimum_ignores_slow_rounds_of_a_busy_run() -> None:
    # The second repeat ran while another process competed for the CPU: most of its
    # rounds are slow, but its fastest rounds show the benchmark's own cost.
    rng = np.random.default_rng(9)
    quiet = rng.lognormal(0.0, 0.01, 100)
    busy = np.concatenate([1.8 * rng.lognormal(0.0, 0.01, 90), rng.lognormal(0.0, 0.01, 10)])
    base = [quiet, rng.lognormal(0.0, 0.01, 100), quiet * 1.001]
    cand = [rng.lognormal(0.0, 0.01, 100), busy, rng.lognormal(0.0, 0.01, 100)]

    by_minimum = WelchRepeatRatio(statistic="min").estimate(base, cand, 0.95, 1.05)
    by_median = WelchRepeatRatio(statistic="median").estimate(base, cand, 0.95, 1.05)

    assert by_minimum.ratio == pytest.approx(1.0, abs=0.03)
    assert by_median.ratio > 1.15


def test_welch_needs_two_repeats_per_side() -> None:
    with pytest.raises(ValueError, match="needs 2 repeats per side, got 1 and 3"):
        WelchRepeatRatio().estimate(
            _repeats(1, 1.0, repeats=1), _repeats(2, 1.0, repeats=3), 0.95, 1.05
        )


def test_paired_cancels_slow_spells_shared_by_a_pair() -> None:
    # Each pair ran in the same slow or fast spell of the machine, and the candidate
    # is 10% slower inside every pair.
    rng = np.random.default_rng(8)
    levels = (1.0, 1.6, 0.9, 1.3)
    base = [level * rng.lognormal(0.0, 0.005, 100) for level in levels]
    cand = [1.1 * level * rng.lognormal(0.0, 0.005, 100) for level in levels]

    paired = PairedRepeatRatio().estimate(base, cand, 0.95, 1.05)
    unpaired = WelchRepeatRatio().estimate(base, cand, 0.95, 1.05)

    assert paired.interval(0.99)[0] > 1.05
    assert unpaired.interval(0.99)[0] < 1.0


def test_paired_needs_equal_repeat_counts() -> None:
    with pytest.raises(ValueError, match="need equal counts of 2 or more, got 2 and 3"):
        PairedRepeatRatio().estimate(
            _repeats(1, 1.0, repeats=2), _repeats(2, 1.0, repeats=3), 0.95, 1.05
        )


def test_welch_with_identical_repeats_stays_finite() -> None:
    same = [np.full(10, 2.0), np.full(10, 2.0)]

    estimate = WelchRepeatRatio().estimate(same, same, 0.95, 1.05)

    low, high = estimate.interval(0.999)
    assert estimate.ratio == 1.0
    assert math.isfinite(low)
    assert math.isfinite(high)


def test_bootstrap_is_reproducible_with_its_seed() -> None:
    base, cand = _repeats(1, 1.0), _repeats(2, 1.1)

    first = BootstrapMedianRatio(seed=3).estimate(base, cand, 0.95, 1.05)
    second = BootstrapMedianRatio(seed=3).estimate(base, cand, 0.95, 1.05)

    assert first.interval(0.99) == second.interval(0.99)
    assert first.p_above == second.p_above


@pytest.mark.parametrize(
    ("p_values", "rate", "rejected"),
    [
        pytest.param(
            [0.001, 0.008, 0.039, 0.041, 0.042, 0.06, 0.074, 0.205], 0.05, 2, id="textbook"
        ),
        pytest.param([0.5, 0.6, 0.7], 0.05, 0, id="none"),
        pytest.param([0.001, 0.002, 0.003], 0.01, 3, id="all"),
        pytest.param([0.04, 0.04, 0.04], 0.05, 3, id="step-up"),
    ],
)
def test_benjamini_hochberg_counts_rejections(
    p_values: list[float], rate: float, rejected: int
) -> None:
    assert benjamini_hochberg(p_values, rate) == rejected


def test_benjamini_hochberg_rejects_invalid_rate() -> None:
    with pytest.raises(ValueError, match="false discovery rate must lie strictly between 0 and 1"):
        benjamini_hochberg([0.1], 0.0)


@pytest.mark.parametrize(
    ("rejected", "total", "expected"),
    [
        pytest.param(0, 10, 0.999, id="no-selection"),
        pytest.param(1, 10, 0.999, id="one-selected"),
        pytest.param(5, 10, 0.995, id="half-selected"),
        pytest.param(0, 0, 0.99, id="no-rows"),
    ],
)
def test_fcr_confidence_level(rejected: int, total: int, expected: float) -> None:
    assert fcr_confidence(rejected, total, 0.01) == pytest.approx(expected)
