"""Load a run folder's files for reporting: run.json, timeseries.csv, histograms.hlog.

The latency spectrum covers the measurement window only, like run.json's summary:
the interval histograms of whole seconds inside the window are added exactly. A run
that never reached steady state has no window, so its spectrum covers the whole run
and `RunData.spectrum_scope` records that.
"""

from __future__ import annotations

import dataclasses
import logging
from datetime import datetime
from pathlib import Path

import pandas as pd
from hdrh.histogram import HdrHistogram

from perfgate.errors import ResultsError
from perfgate.histograms.histogram import merge, new_histogram
from perfgate.histograms.hlog import read_interval_log
from perfgate.results.schema import RunRecord
from perfgate.results.store import read_run

logger = logging.getLogger(__name__)

TIMESERIES_FILE = "timeseries.csv"
HISTOGRAM_FILE = "histograms.hlog"
TOTAL = "total"
UNCORRECTED_SUFFIX = "#uncorrected"
TIMESERIES_COLUMNS = ("elapsed_s", "endpoint", "requests", "failures", "p50_ms", "p99_ms")


@dataclasses.dataclass(frozen=True)
class LatencyHistograms:
    """One endpoint's latency histograms (microseconds) over the spectrum's scope.

    Attributes:
        corrected: latency from the intended start (closed-model runs record only this).
        uncorrected: latency from the actual send; None unless the run used an open model.
    """

    corrected: HdrHistogram
    uncorrected: HdrHistogram | None


@dataclasses.dataclass(frozen=True)
class RunData:
    """A run folder's files, loaded for the report.

    Attributes:
        run_dir: the run folder.
        record: run.json.
        timeseries: timeseries.csv, or an empty frame when the file is missing.
        histograms: per endpoint (and `total`), histograms over the spectrum's scope.
        spectrum_scope: `window` or `whole run` (when the run has no window).
        missing_files: result files the folder lacks, for the report to mention.
    """

    run_dir: Path
    record: RunRecord
    timeseries: pd.DataFrame
    histograms: dict[str, LatencyHistograms]
    spectrum_scope: str
    missing_files: tuple[str, ...]

    @property
    def endpoint_names(self) -> list[str]:
        """Endpoints in run.json's order, then `total`."""
        return [endpoint.name for endpoint in self.record.endpoints] + [TOTAL]


def load_run(run_dir: Path) -> RunData:
    """Read a run folder; missing time series or histogram files leave their parts empty.

    Raises:
        ResultsError: run.json is missing or invalid, or a present file is corrupt.
    """
    record = read_run(run_dir)
    folder = run_dir if run_dir.is_dir() else run_dir.parent
    missing = tuple(
        name for name in (TIMESERIES_FILE, HISTOGRAM_FILE) if not (folder / name).is_file()
    )
    for name in missing:
        logger.warning("run %s has no %s; its report leaves that part out", folder, name)

    timeseries = _empty_timeseries()
    if TIMESERIES_FILE not in missing:
        timeseries = read_timeseries(folder / TIMESERIES_FILE)
    histograms: dict[str, LatencyHistograms] = {}
    scope = "window" if _has_window(record) else "whole run"
    if HISTOGRAM_FILE not in missing:
        histograms = _scope_histograms(folder / HISTOGRAM_FILE, record)
    return RunData(folder, record, timeseries, histograms, scope, missing)


def read_timeseries(path: Path) -> pd.DataFrame:
    """Read timeseries.csv; p50/p99 are NaN in seconds without requests.

    Raises:
        ResultsError: the file is not CSV or lacks a column the report draws.
    """
    try:
        frame = pd.read_csv(path, dtype={"endpoint": str, "stage": str, "phase": str})
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        msg = f"time series {str(path)!r} is not valid CSV ({exc}); rerun or restore it"
        raise ResultsError(msg) from None
    absent = [column for column in TIMESERIES_COLUMNS if column not in frame.columns]
    if absent:
        msg = (
            f"time series {str(path)!r} lacks the columns {absent}; "
            "it was not written by perfgate run, or it is truncated"
        )
        raise ResultsError(msg)
    return frame


def _empty_timeseries() -> pd.DataFrame:
    return pd.DataFrame({column: [] for column in TIMESERIES_COLUMNS})


def _has_window(record: RunRecord) -> bool:
    return record.window.end_s > record.window.start_s


def window_epoch_seconds(record: RunRecord) -> tuple[int, int] | None:
    """Return the window as [first, end) whole epoch seconds, or None without a window.

    run.json stores the window relative to `started_at`; the interval log stamps
    intervals with whole epoch seconds, which this maps the window back onto.
    """
    if not _has_window(record):
        return None
    started_s = datetime.fromisoformat(record.started_at).timestamp()
    return round(started_s + record.window.start_s), round(started_s + record.window.end_s)


def _scope_histograms(path: Path, record: RunRecord) -> dict[str, LatencyHistograms]:
    window = window_epoch_seconds(record)
    corrected: dict[str, HdrHistogram] = {}
    uncorrected: dict[str, HdrHistogram] = {}
    for interval in read_interval_log(path):
        if window is not None and not window[0] <= interval.start_s < window[1]:
            continue
        if interval.tag.endswith(UNCORRECTED_SUFFIX):
            name = interval.tag.removesuffix(UNCORRECTED_SUFFIX)
            uncorrected.setdefault(name, new_histogram()).add(interval.histogram)
        else:
            corrected.setdefault(interval.tag, new_histogram()).add(interval.histogram)

    corrected[TOTAL] = merge(corrected.values())
    if uncorrected:
        uncorrected[TOTAL] = merge(uncorrected.values())
    return {
        name: LatencyHistograms(histogram, uncorrected.get(name))
        for name, histogram in corrected.items()
    }
