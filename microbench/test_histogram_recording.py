"""Histogram recording: the cost of recording one latency sample.

perfgate's workers record every request into an HdrHistogram, so this cost bounds
how many requests a worker can record per second. Each round records 1,000 latencies
in microseconds: straight into `hdrh`'s `record_value`, and through perfgate's path,
which first clamps the value into the trackable range.
"""

from __future__ import annotations

import random
from collections.abc import Callable

import pytest
from hdrh.histogram import HdrHistogram
from pytest_benchmark.fixture import BenchmarkFixture

from perfgate.histograms.histogram import clamp_us, new_histogram

SAMPLES_PER_ROUND = 1_000

_rng = random.Random(11)
# Log-normal latencies around 2 ms with a long tail, in microseconds.
LATENCIES_US = [_rng.lognormvariate(7.6, 0.6) for _ in range(SAMPLES_PER_ROUND)]


def record_hdrh(histogram: HdrHistogram) -> None:
    """Record the latencies with `record_value`, rounded to whole microseconds."""
    for latency_us in LATENCIES_US:
        histogram.record_value(round(latency_us))


def record_perfgate(histogram: HdrHistogram) -> None:
    """Record the latencies the way perfgate's worker does: clamp, then record."""
    for latency_us in LATENCIES_US:
        histogram.record_value(clamp_us(latency_us))


RECORDERS: dict[str, Callable[[HdrHistogram], None]] = {
    "hdrh": record_hdrh,
    "perfgate": record_perfgate,
}


@pytest.mark.parametrize("recorder", sorted(RECORDERS))
def test_record_latencies(benchmark: BenchmarkFixture, recorder: str) -> None:
    """Record 1,000 latencies into a 3-digit histogram of 1 us to 1 hour."""
    histogram = new_histogram()
    benchmark(RECORDERS[recorder], histogram)
    benchmark.extra_info["samples_per_round"] = SAMPLES_PER_ROUND
    assert histogram.get_total_count() % SAMPLES_PER_ROUND == 0
