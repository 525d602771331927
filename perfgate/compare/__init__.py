"""Compare runs: the change of each endpoint's metrics with bootstrap confidence intervals."""

from __future__ import annotations

from perfgate.compare.changes import (
    DEFAULT_METRICS,
    KNOWN_METRICS,
    Comparison,
    Direction,
    MetricChange,
    compare_runs,
    metric_value,
)
from perfgate.compare.groups import configuration_label, find_run_dirs, load_side

__all__ = [
    "DEFAULT_METRICS",
    "KNOWN_METRICS",
    "Comparison",
    "Direction",
    "MetricChange",
    "compare_runs",
    "configuration_label",
    "find_run_dirs",
    "load_side",
    "metric_value",
]
