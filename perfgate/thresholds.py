"""Pass/fail thresholds in the form k6 users know: `p99 < 50ms`, `fail_ratio < 1%`.

Grammar, one expression per threshold:

    [ "ENDPOINT" . ] METRIC OPERATOR NUMBER [UNIT]

METRIC is a latency statistic (`min`, `mean`, `p50`, `p90`, `p99`, `p999`, `max`; units
`us`, `ms`, `s`, default ms), `rps` (requests per second), `fail_ratio` (`%` or a
fraction), `requests` or `failures` (counts). Without an endpoint the threshold applies
to the total. OPERATOR is one of `<`, `<=`, `>`, `>=`, `==`.
"""

from __future__ import annotations

import dataclasses
import operator
import re
from collections.abc import Callable, Mapping

from perfgate.errors import ConfigError

LATENCY_METRICS = frozenset({"min", "mean", "p50", "p90", "p99", "p999", "max"})
COUNT_METRICS = frozenset({"requests", "failures"})
METRICS = LATENCY_METRICS | COUNT_METRICS | {"rps", "fail_ratio"}

_OPERATORS: dict[str, Callable[[float, float], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "==": operator.eq,
}
_LATENCY_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "": 1.0}

_EXPRESSION = re.compile(
    r"""^\s*(?:"(?P<endpoint>[^"]+)"\s*\.\s*)?
        (?P<metric>[a-z_0-9]+)\s*
        (?P<operator><=|>=|==|<|>)\s*
        (?P<number>-?\d+(?:\.\d+)?)\s*
        (?P<unit>us|ms|s|%|/s)?\s*$""",
    re.VERBOSE,
)


@dataclasses.dataclass(frozen=True)
class Threshold:
    """A parsed threshold; `limit` is in ms for latencies and a fraction for fail_ratio."""

    expr: str
    endpoint: str | None
    metric: str
    operator: str
    limit: float


@dataclasses.dataclass(frozen=True)
class ThresholdResult:
    """A judged threshold; `value` is None when the endpoint had no requests."""

    expr: str
    value: float | None
    passed: bool


def parse_threshold(expr: str) -> Threshold:
    """Parse one threshold expression.

    Raises:
        ConfigError: the expression does not match the grammar or uses an unknown
            metric or a unit that does not fit the metric.
    """
    match = _EXPRESSION.match(expr)
    if match is None:
        msg = (
            f"invalid threshold {expr!r}; write it like 'p99 < 50ms', 'fail_ratio < 1%' "
            "or '\"GET /db\".p99 < 20ms'"
        )
        raise ConfigError(msg)
    metric = match["metric"]
    if metric not in METRICS:
        known = ", ".join(sorted(METRICS))
        msg = f"invalid threshold {expr!r}: unknown metric {metric!r}; use one of {known}"
        raise ConfigError(msg)
    return Threshold(
        expr=expr.strip(),
        endpoint=match["endpoint"],
        metric=metric,
        operator=match["operator"],
        limit=_limit(expr, metric, float(match["number"]), match["unit"] or ""),
    )


def _limit(expr: str, metric: str, number: float, unit: str) -> float:
    if metric in LATENCY_METRICS:
        if unit not in _LATENCY_UNITS_MS:
            msg = f"invalid threshold {expr!r}: a latency takes the unit us, ms or s, not {unit!r}"
            raise ConfigError(msg)
        return number * _LATENCY_UNITS_MS[unit]
    if metric == "fail_ratio":
        if unit not in ("%", ""):
            msg = f"invalid threshold {expr!r}: fail_ratio takes '%' or a plain fraction"
            raise ConfigError(msg)
        return number / 100.0 if unit == "%" else number
    if metric == "rps" and unit not in ("", "/s"):
        msg = f"invalid threshold {expr!r}: rps takes no unit or '/s'"
        raise ConfigError(msg)
    if metric in COUNT_METRICS and unit:
        msg = f"invalid threshold {expr!r}: {metric} is a count and takes no unit"
        raise ConfigError(msg)
    return number


def judge(
    thresholds: list[Threshold],
    total: Mapping[str, float],
    endpoints: Mapping[str, Mapping[str, float]],
) -> list[ThresholdResult]:
    """Judge thresholds against flat metric tables (latencies in ms, fail_ratio a fraction).

    A threshold on an endpoint that received no requests fails with value None, so a
    typo in an endpoint name can never pass silently.
    """
    results = []
    for threshold in thresholds:
        table = total if threshold.endpoint is None else endpoints.get(threshold.endpoint)
        if table is None or table.get("requests", 0) == 0:
            results.append(ThresholdResult(threshold.expr, None, False))
            continue
        value = float(table[threshold.metric])
        passed = _OPERATORS[threshold.operator](value, threshold.limit)
        results.append(ThresholdResult(threshold.expr, value, passed))
    return results
