"""The latency percentile spectrum of an HdrHistogram, as HdrHistogram's own plots draw it.

The x axis is `1 / (1 - p)` on a log scale, so 90%, 99%, 99.9% and 99.99% sit one
decade apart and the tail gets as much room as the median. Percentiles are taken at
a fixed number of steps per halving of the distance to 100% (HdrHistogram's
"ticks per half distance"), which spaces the points evenly on that axis. The last
point is the maximum, placed at the percentile of the single slowest sample.
"""

from __future__ import annotations

import dataclasses

from hdrh.histogram import HdrHistogram

STEPS_PER_HALVING = 5
# 40 halvings reach a tail share of 2**-40 (about 1e-12), beyond any run's sample count.
MAX_HALVINGS = 40


@dataclasses.dataclass(frozen=True)
class SpectrumPoint:
    """One point of a spectrum: `percentile` in [0, 100) and its latency in milliseconds."""

    percentile: float
    latency_ms: float

    @property
    def inverse_tail(self) -> float:
        """The x coordinate `1 / (1 - p)`: 1 at p0, 10 at p90, 1000 at p99.9."""
        return 1.0 / (1.0 - self.percentile / 100.0)


def percentile_spectrum(histogram: HdrHistogram) -> list[SpectrumPoint]:
    """Compute a histogram's percentile spectrum; empty when the histogram is.

    Points run from p0 (the minimum) to the percentile of the last sample,
    `100 * (1 - 1/count)`, whose latency is the maximum.
    """
    count = int(histogram.get_total_count())
    if count == 0:
        return []

    last_percentile = 100.0 * (1.0 - 1.0 / count) if count > 1 else 0.0
    points = [SpectrumPoint(0.0, histogram.get_min_value() / 1000.0)]
    for step in range(1, STEPS_PER_HALVING * MAX_HALVINGS + 1):
        percentile = 100.0 * (1.0 - 0.5 ** (step / STEPS_PER_HALVING))
        if percentile >= last_percentile:
            break
        latency_us = histogram.get_value_at_percentile(percentile)
        points.append(SpectrumPoint(percentile, latency_us / 1000.0))
    if last_percentile > 0.0:
        points.append(SpectrumPoint(last_percentile, histogram.get_max_value() / 1000.0))
    return points
