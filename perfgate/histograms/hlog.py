"""Read and write HdrHistogram interval logs with one tag per endpoint.

The format is the one HdrHistogram's Java `HistogramLogWriter` writes, so tools such
as HistogramLogProcessor and HdrHistogramVisualizer read the file directly:

    #[StartTime: 1733338590.000 (seconds since epoch)]
    #[BaseTime: 0.000 (seconds since epoch)]
    "StartTimestamp","Interval_Length","Interval_Max","Interval_Compressed_Histogram"
    Tag=GET /db,1733338591.000,1.000,2.431,HISTFAAAA...

Timestamps are absolute seconds since the epoch; `Interval_Max` is in milliseconds
because the recorded values are microseconds.
"""

from __future__ import annotations

import dataclasses
import os
import zlib
from collections.abc import Iterable, Iterator
from pathlib import Path

from hdrh.codec import HdrCookieException, HdrHistogramSettingsException, HdrLengthException
from hdrh.histogram import HdrHistogram

from perfgate.errors import ResultsError
from perfgate.histograms.histogram import decode, encode

LEGEND = '"StartTimestamp","Interval_Length","Interval_Max","Interval_Compressed_Histogram"'


@dataclasses.dataclass(frozen=True)
class IntervalHistogram:
    """One endpoint's latencies over one interval of wall-clock time."""

    tag: str
    start_s: float
    length_s: float
    histogram: HdrHistogram


def _validate_tag(tag: str) -> None:
    if "," in tag or "\n" in tag:
        msg = f"histogram tag {tag!r} contains a comma or a line break; rename the endpoint"
        raise ValueError(msg)


def write_interval_log(path: Path, start_s: float, intervals: Iterable[IntervalHistogram]) -> None:
    """Write intervals to `path` atomically (a temporary file, then a rename)."""
    temporary = path.with_name(path.name + ".tmp")
    with temporary.open("w", encoding="ascii") as stream:
        stream.write(f"#[StartTime: {start_s:.3f} (seconds since epoch)]\n")
        stream.write("#[BaseTime: 0.000 (seconds since epoch)]\n")
        stream.write(LEGEND + "\n")
        for interval in intervals:
            _validate_tag(interval.tag)
            max_ms = interval.histogram.get_max_value() / 1000.0
            stream.write(
                f"Tag={interval.tag},{interval.start_s:.3f},{interval.length_s:.3f},"
                f"{max_ms:.3f},{encode(interval.histogram)}\n"
            )
        stream.flush()
        os.fsync(stream.fileno())
    os.replace(temporary, path)


def read_interval_log(path: Path) -> Iterator[IntervalHistogram]:
    """Yield the intervals of a log; a damaged line raises ResultsError naming the line."""
    try:
        lines = path.read_text(encoding="ascii").splitlines()
    except FileNotFoundError:
        msg = f"histogram log {str(path)!r} not found; was the run finished?"
        raise ResultsError(msg) from None
    except UnicodeDecodeError as exc:
        msg = f"histogram log {str(path)!r} is not an ASCII interval log: {exc}"
        raise ResultsError(msg) from None

    for number, line in enumerate(lines, start=1):
        if not line or line.startswith("#") or line.startswith('"'):
            continue
        yield _parse_line(path, number, line)


def _parse_line(path: Path, number: int, line: str) -> IntervalHistogram:
    tag = ""
    fields = line.split(",")
    if fields[0].startswith("Tag="):
        tag = fields.pop(0)[len("Tag=") :]
    try:
        start_s, length_s, _max_ms, payload = fields
        histogram = decode(payload)
        return IntervalHistogram(tag, float(start_s), float(length_s), histogram)
    except (
        ValueError,
        TypeError,
        zlib.error,
        HdrCookieException,
        HdrLengthException,
        HdrHistogramSettingsException,
    ) as exc:
        msg = (
            f"{str(path)!r} line {number} is not a valid interval histogram ({exc}); "
            "the file is truncated or corrupt"
        )
        raise ResultsError(msg) from None
