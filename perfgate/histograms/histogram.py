"""HdrHistogram construction, wire encoding and percentile summaries.

Latencies are recorded in integer microseconds with 3 significant digits, so every
recorded value is kept within 0.1% of its true value across the whole range
(1 us to 1 hour). Histograms from different workers merge exactly by adding counts,
which is why perfgate merges histograms rather than averaging percentiles.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

from hdrh.histogram import HdrHistogram

LOWEST_TRACKABLE_US = 1
HIGHEST_TRACKABLE_US = 3_600_000_000
SIGNIFICANT_DIGITS = 3

SUMMARY_PERCENTILES = (50.0, 90.0, 99.0, 99.9)


def new_histogram() -> HdrHistogram:
    """Create an empty latency histogram in microseconds, 1 us to 1 hour, 3 digits."""
    return HdrHistogram(LOWEST_TRACKABLE_US, HIGHEST_TRACKABLE_US, SIGNIFICANT_DIGITS)


def clamp_us(latency_us: float) -> int:
    """Round a latency to whole microseconds inside the trackable range.

    A sample below 1 us (a cached error raised before any I/O) counts as 1 us, and one
    above an hour as an hour, so no sample is silently dropped by the histogram.
    """
    value = round(latency_us)
    if value < LOWEST_TRACKABLE_US:
        return LOWEST_TRACKABLE_US
    if value > HIGHEST_TRACKABLE_US:
        return HIGHEST_TRACKABLE_US
    return value


def encode(histogram: HdrHistogram) -> str:
    """Encode a histogram in the standard compressed, base64 HdrHistogram format."""
    payload: bytes = histogram.encode()
    return payload.decode("ascii")


def decode(payload: str) -> HdrHistogram:
    """Decode a histogram produced by `encode` (or by any HdrHistogram implementation)."""
    return HdrHistogram.decode(payload.encode("ascii"))


def merge(histograms: Iterable[HdrHistogram]) -> HdrHistogram:
    """Add histograms into a new one; the merge is exact (counts are summed)."""
    merged = new_histogram()
    for histogram in histograms:
        merged.add(histogram)
    return merged


@dataclasses.dataclass(frozen=True)
class LatencySummary:
    """Latency statistics of one histogram, in milliseconds.

    Every percentile lies between `min` and `max`, and `max` is the histogram's p100:
    the highest value equivalent to the largest sample at 3 significant digits.
    """

    count: int
    min: float
    mean: float
    p50: float
    p90: float
    p99: float
    p999: float
    max: float

    def as_dict(self) -> dict[str, float]:
        """Return the statistics as run.json writes them (`latency_ms`), without count."""
        return {
            "min": self.min,
            "mean": self.mean,
            "p50": self.p50,
            "p90": self.p90,
            "p99": self.p99,
            "p999": self.p999,
            "max": self.max,
        }


def _us_to_ms(value_us: float) -> float:
    return round(value_us / 1000.0, 3)


def summarize(histogram: HdrHistogram) -> LatencySummary:
    """Compute the summary statistics of a histogram; all zeros when it is empty."""
    count = int(histogram.get_total_count())
    if count == 0:
        return LatencySummary(0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)

    percentiles = histogram.get_percentile_to_value_dict(list(SUMMARY_PERCENTILES))
    return LatencySummary(
        count=count,
        min=_us_to_ms(histogram.get_min_value()),
        mean=_us_to_ms(histogram.get_mean_value()),
        p50=_us_to_ms(percentiles[50.0]),
        p90=_us_to_ms(percentiles[90.0]),
        p99=_us_to_ms(percentiles[99.0]),
        p999=_us_to_ms(percentiles[99.9]),
        max=_us_to_ms(histogram.get_max_value()),
    )


def percentile_ms(histogram: HdrHistogram, percentile: float) -> float:
    """Return one percentile of a histogram in milliseconds (0.0 when it is empty)."""
    if histogram.get_total_count() == 0:
        return 0.0
    return _us_to_ms(histogram.get_value_at_percentile(percentile))
