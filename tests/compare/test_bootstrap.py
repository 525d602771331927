"""Bootstrap intervals of the change between repeated runs."""

from __future__ import annotations

import numpy as np
import pytest

from perfgate.compare.bootstrap import absolute_change, bootstrap_interval, relative_change


def test_interval_needs_two_repeats_a_side() -> None:
    assert bootstrap_interval([10.0], [11.0, 12.0], relative_change) is None
    assert bootstrap_interval([10.0, 11.0], [12.0], relative_change) is None


def test_clear_shift_gives_interval_above_zero() -> None:
    rng = np.random.default_rng(1)
    baseline = list(rng.normal(10.0, 0.2, 8))
    candidate = list(rng.normal(12.0, 0.2, 8))

    interval = bootstrap_interval(baseline, candidate, relative_change)

    assert interval is not None
    low, high = interval
    assert low > 0.0
    assert low < 0.2 < high
    assert high < 0.3


def test_absolute_change_is_in_the_metric_unit() -> None:
    interval = bootstrap_interval([0.01, 0.01, 0.01], [0.03, 0.03, 0.03], absolute_change)

    assert interval == pytest.approx((0.02, 0.02))


def test_zero_baseline_has_no_relative_interval() -> None:
    assert bootstrap_interval([0.0, 0.0, 0.0], [1.0, 2.0, 3.0], relative_change) is None


def test_same_seed_gives_same_interval() -> None:
    baseline = [10.0, 10.4, 9.8, 10.1]
    candidate = [10.5, 10.9, 10.2, 10.6]

    first = bootstrap_interval(baseline, candidate, relative_change, seed=7)
    second = bootstrap_interval(baseline, candidate, relative_change, seed=7)

    assert first == second


def test_interval_coverage_near_nominal() -> None:
    """Without a true change, a 95% interval should contain zero in roughly 95% of trials.

    The percentile bootstrap runs a little narrow with 10 repeats a side, so the
    accepted band is 85% to 99%. A broken resampling, such as resampling only one
    side, lands well outside it (78% in that case).
    """
    rng = np.random.default_rng(2024)
    trials = 300
    covered = 0
    for trial in range(trials):
        baseline = list(rng.normal(50.0, 5.0, 10))
        candidate = list(rng.normal(50.0, 5.0, 10))
        interval = bootstrap_interval(
            baseline, candidate, relative_change, resamples=1_000, seed=trial
        )
        assert interval is not None
        covered += interval[0] <= 0.0 <= interval[1]

    assert 0.85 <= covered / trials <= 0.99


@pytest.mark.parametrize(
    ("confidence", "resamples", "message"),
    [
        pytest.param(1.0, 1_000, "invalid confidence 1.0", id="confidence-one"),
        pytest.param(0.0, 1_000, "invalid confidence 0.0", id="confidence-zero"),
        pytest.param(0.95, 10, "invalid resamples 10", id="too-few-resamples"),
    ],
)
def test_invalid_settings_are_rejected(confidence: float, resamples: int, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        bootstrap_interval(
            [1.0, 2.0], [1.0, 2.0], relative_change, confidence=confidence, resamples=resamples
        )
