"""The history store: metrics of past runs and benchmark files, and trends over them."""

from __future__ import annotations

from perfgate.history.store import (
    DEFAULT_STORE,
    IndexSummary,
    index_bench,
    index_results,
    index_run,
    read_store,
)
from perfgate.history.trend import MetricSpec, RunFilter, load_recent_runs, load_trend

__all__ = [
    "DEFAULT_STORE",
    "IndexSummary",
    "MetricSpec",
    "RunFilter",
    "index_bench",
    "index_results",
    "index_run",
    "load_recent_runs",
    "load_trend",
    "read_store",
]
