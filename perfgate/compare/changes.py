"""Per-endpoint, per-metric change between baseline and candidate runs.

Each side is one or more runs. A metric's value on a side is the mean over its
repeats. The change is relative (`+0.10` is 10% higher) for latencies and rates.
It is absolute for `fail_ratio`, because its baseline is often zero. A confidence interval
comes from `bootstrap_interval` when each side has at least two repeats.
"""

from __future__ import annotations

import dataclasses
import enum
import math
from collections.abc import Sequence

from perfgate.compare.bootstrap import (
    DEFAULT_CONFIDENCE,
    DEFAULT_RESAMPLES,
    absolute_change,
    bootstrap_interval,
    relative_change,
)
from perfgate.errors import ConfigError
from perfgate.results.schema import EndpointResult, LatencyMs, RunRecord

TOTAL = "total"
LATENCY_METRICS = tuple(LatencyMs.__struct_fields__)
COUNT_METRICS = ("rps", "requests", "failures", "fail_ratio")
KNOWN_METRICS = COUNT_METRICS + LATENCY_METRICS
DEFAULT_METRICS = ("rps", "p50", "p90", "p99", "p999")
ABSOLUTE_METRICS = frozenset({"fail_ratio"})


class Direction(enum.Enum):
    """Position of a change's confidence interval relative to zero."""

    HIGHER = "higher"
    LOWER = "lower"
    UNCLEAR = "unclear"
    NO_INTERVAL = "no interval"


@dataclasses.dataclass(frozen=True)
class MetricChange:
    """The change of one metric of one endpoint.

    Attributes:
        endpoint: endpoint name, or `total`.
        metric: `p99`, `rps`, ... as run.json names it.
        baseline: the metric in each baseline run that has the endpoint.
        candidate: the metric in each candidate run that has the endpoint.
        change: relative change of the means (0.1 is 10% higher), or the absolute
            difference for `fail_ratio`; None when a side lacks the endpoint or the
            baseline is zero.
        interval: confidence interval of `change`, or None without repeats on both sides.
    """

    endpoint: str
    metric: str
    baseline: tuple[float, ...]
    candidate: tuple[float, ...]
    change: float | None
    interval: tuple[float, float] | None

    @property
    def relative(self) -> bool:
        """Whether `change` and `interval` are relative (a share) rather than absolute."""
        return self.metric not in ABSOLUTE_METRICS

    @property
    def baseline_mean(self) -> float | None:
        """Mean over the baseline repeats, or None when none has the endpoint."""
        return _mean(self.baseline)

    @property
    def candidate_mean(self) -> float | None:
        """Mean over the candidate repeats, or None when none has the endpoint."""
        return _mean(self.candidate)

    @property
    def direction(self) -> Direction:
        """Whether the whole interval lies above zero, below it, or straddles it."""
        if self.interval is None:
            return Direction.NO_INTERVAL
        low, high = self.interval
        if low > 0.0:
            return Direction.HIGHER
        if high < 0.0:
            return Direction.LOWER
        return Direction.UNCLEAR


@dataclasses.dataclass(frozen=True)
class Comparison:
    """Changes of every endpoint and metric between two sides.

    Attributes:
        baseline_ids: run ids of the baseline repeats.
        candidate_ids: run ids of the candidate repeats.
        confidence: the confidence level of every interval.
        changes: one entry per endpoint and metric, endpoints in baseline order, `total` last.
        invalid_runs: ids of runs whose verdict is `invalid`; their numbers prove nothing.
    """

    baseline_ids: tuple[str, ...]
    candidate_ids: tuple[str, ...]
    confidence: float
    changes: tuple[MetricChange, ...]
    invalid_runs: tuple[str, ...]


def metric_value(result: EndpointResult, metric: str) -> float:
    """Return one metric of an endpoint's result, such as `p99` (ms) or `rps`.

    Raises:
        ConfigError: `metric` is not one that run.json records.
    """
    if metric in LATENCY_METRICS:
        return float(getattr(result.latency_ms, metric))
    if metric in COUNT_METRICS:
        return float(getattr(result, metric))
    msg = f"unknown metric {metric!r}; choose from {', '.join(KNOWN_METRICS)}"
    raise ConfigError(msg)


def compare_runs(
    baseline: Sequence[RunRecord],
    candidate: Sequence[RunRecord],
    *,
    metrics: Sequence[str] = DEFAULT_METRICS,
    confidence: float = DEFAULT_CONFIDENCE,
    resamples: int = DEFAULT_RESAMPLES,
    seed: int = 0,
) -> Comparison:
    """Compare every endpoint's metrics between baseline and candidate runs.

    Raises:
        ConfigError: a side has no run, or a metric is unknown.
    """
    if not baseline or not candidate:
        msg = "a comparison needs at least one run on each side; pass two run folders"
        raise ConfigError(msg)
    unknown = [metric for metric in metrics if metric not in KNOWN_METRICS]
    if unknown:
        msg = f"unknown metric {unknown[0]!r}; choose from {', '.join(KNOWN_METRICS)}"
        raise ConfigError(msg)

    changes = []
    for endpoint in _endpoint_names([*baseline, *candidate]):
        for metric in metrics:
            base = _values(baseline, endpoint, metric)
            cand = _values(candidate, endpoint, metric)
            change_function = absolute_change if metric in ABSOLUTE_METRICS else relative_change
            interval = bootstrap_interval(
                base, cand, change_function, confidence=confidence, resamples=resamples, seed=seed
            )
            changes.append(
                MetricChange(
                    endpoint, metric, base, cand, _point_change(base, cand, metric), interval
                )
            )
    invalid = tuple(run.run_id for run in [*baseline, *candidate] if run.verdict == "invalid")
    return Comparison(
        baseline_ids=tuple(run.run_id for run in baseline),
        candidate_ids=tuple(run.run_id for run in candidate),
        confidence=confidence,
        changes=tuple(changes),
        invalid_runs=invalid,
    )


def _endpoint_names(records: Sequence[RunRecord]) -> list[str]:
    names: dict[str, None] = {}
    for record in records:
        for endpoint in record.endpoints:
            names.setdefault(endpoint.name, None)
    return [*names, TOTAL]


def _values(records: Sequence[RunRecord], endpoint: str, metric: str) -> tuple[float, ...]:
    values = []
    for record in records:
        if endpoint == TOTAL:
            values.append(metric_value(record.total, metric))
            continue
        for result in record.endpoints:
            if result.name == endpoint:
                values.append(metric_value(result, metric))
    return tuple(values)


def _point_change(base: tuple[float, ...], cand: tuple[float, ...], metric: str) -> float | None:
    base_mean, cand_mean = _mean(base), _mean(cand)
    if base_mean is None or cand_mean is None:
        return None
    if metric in ABSOLUTE_METRICS:
        return cand_mean - base_mean
    if base_mean <= 0.0:
        return None
    return cand_mean / base_mean - 1.0


def _mean(values: tuple[float, ...]) -> float | None:
    return math.fsum(values) / len(values) if values else None
