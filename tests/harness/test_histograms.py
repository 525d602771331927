"""Histogram summaries, exact merging and the interval log format."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from hdrh.histogram import HdrHistogram
from hypothesis import given, settings
from hypothesis import strategies as st

from perfgate.errors import ResultsError
from perfgate.histograms.histogram import (
    clamp_us,
    decode,
    encode,
    merge,
    new_histogram,
    summarize,
)
from perfgate.histograms.hlog import IntervalHistogram, read_interval_log, write_interval_log


def _record(values: list[int]) -> HdrHistogram:
    histogram = new_histogram()
    for value in values:
        histogram.record_value(value)
    return histogram


def test_merge_of_worker_histograms_equals_one_histogram() -> None:
    generator = random.Random(7)
    samples = [generator.randint(50, 2_000_000) for _ in range(20_000)]
    workers = [samples[index::3] for index in range(3)]

    merged = merge(decode(encode(_record(part))) for part in workers)
    whole = _record(samples)

    assert merged.get_total_count() == len(samples)
    assert summarize(merged) == summarize(whole)
    assert merged.equals(whole)


def test_summary_percentiles_are_ordered_and_bounded() -> None:
    generator = random.Random(11)
    histogram = _record([int(generator.lognormvariate(7, 1.5)) + 1 for _ in range(5_000)])
    summary = summarize(histogram)

    assert summary.min <= summary.p50 <= summary.p90 <= summary.p99 <= summary.p999 <= summary.max
    assert summary.min <= summary.mean <= summary.max
    assert summary.max == pytest.approx(histogram.get_value_at_percentile(100) / 1000.0, abs=0.001)


def test_summary_keeps_three_significant_digits() -> None:
    summary = summarize(_record([123_456]))
    assert summary.p50 == pytest.approx(123.456, rel=1e-3)
    assert summary.count == 1


def test_summary_of_empty_histogram_is_zero() -> None:
    summary = summarize(new_histogram())
    assert summary.count == 0
    assert summary.max == 0.0


@pytest.mark.parametrize(
    ("latency_us", "expected"),
    [(0.2, 1), (1.4, 1), (1.6, 2), (999.5, 1000), (1e13, 3_600_000_000)],
    ids=["below-1us", "rounds-down", "rounds-up", "half-up", "beyond-an-hour"],
)
def test_clamp_us_keeps_samples_in_range(latency_us: float, expected: int) -> None:
    assert clamp_us(latency_us) == expected


def test_interval_log_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "histograms.hlog"
    first = _record([100, 200, 300])
    second = _record([5_000])
    write_interval_log(
        path,
        1_000.0,
        [
            IntervalHistogram("GET /db", 1_001.0, 1.0, first),
            IntervalHistogram("GET /json", 1_002.0, 1.0, second),
        ],
    )

    intervals = list(read_interval_log(path))

    assert [interval.tag for interval in intervals] == ["GET /db", "GET /json"]
    assert [interval.start_s for interval in intervals] == [1_001.0, 1_002.0]
    assert intervals[0].histogram.equals(first)
    assert intervals[1].histogram.get_total_count() == 1


def test_interval_log_truncated_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "histograms.hlog"
    write_interval_log(path, 0.0, [IntervalHistogram("GET /db", 1.0, 1.0, _record([100] * 50))])
    text = path.read_text()
    path.write_text(text[: len(text) - 12])

    with pytest.raises(ResultsError, match=r"histograms\.hlog' line 4 .*truncated or corrupt"):
        list(read_interval_log(path))


def test_interval_log_rejects_tag_with_comma(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="contains a comma"):
        write_interval_log(
            tmp_path / "x.hlog", 0.0, [IntervalHistogram("a,b", 0.0, 1.0, new_histogram())]
        )


@given(
    workers=st.lists(
        st.lists(st.integers(min_value=1, max_value=3_600_000_000), min_size=1, max_size=200),
        min_size=1,
        max_size=4,
    )
)
@settings(max_examples=60, deadline=None)
def test_merge_properties_on_random_samples(workers: list[list[int]]) -> None:
    merged = merge(decode(encode(_record(part))) for part in workers)
    everything = _record([value for part in workers for value in part])
    percentiles = [merged.get_value_at_percentile(p) for p in (0.0, 50.0, 90.0, 99.0, 99.9, 100.0)]

    assert merged.equals(everything)
    assert merged.get_total_count() == sum(len(part) for part in workers)
    assert percentiles == sorted(percentiles)
    assert merged.get_min_value() <= percentiles[0]
    assert percentiles[-1] == merged.get_max_value()
    summary = summarize(merged)
    assert summary.min <= summary.p50 <= summary.p999 <= summary.max
