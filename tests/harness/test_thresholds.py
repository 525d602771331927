"""Threshold expressions: parsing, units and judging."""

from __future__ import annotations

import pytest

from perfgate.errors import ConfigError
from perfgate.thresholds import judge, parse_threshold

TOTAL = {
    "requests": 1000.0,
    "failures": 5.0,
    "rps": 480.0,
    "fail_ratio": 0.005,
    "p99": 42.0,
    "p50": 3.0,
}


@pytest.mark.parametrize(
    ("expr", "endpoint", "metric", "operator", "limit"),
    [
        ("p99 < 50ms", None, "p99", "<", 50.0),
        ("p999<=0.2s", None, "p999", "<=", 200.0),
        ("p50 < 800us", None, "p50", "<", 0.8),
        ("fail_ratio < 1%", None, "fail_ratio", "<", 0.01),
        ("fail_ratio < 0.02", None, "fail_ratio", "<", 0.02),
        ("rps > 500", None, "rps", ">", 500.0),
        ("rps >= 500/s", None, "rps", ">=", 500.0),
        ('"GET /db".p99 < 20ms', "GET /db", "p99", "<", 20.0),
        ("failures == 0", None, "failures", "==", 0.0),
    ],
    ids=[
        "ms",
        "seconds",
        "microseconds",
        "percent",
        "fraction",
        "rps",
        "rps-unit",
        "endpoint",
        "count",
    ],
)
def test_parse_threshold(
    expr: str, endpoint: str | None, metric: str, operator: str, limit: float
) -> None:
    threshold = parse_threshold(expr)
    assert threshold.endpoint == endpoint
    assert threshold.metric == metric
    assert threshold.operator == operator
    assert threshold.limit == pytest.approx(limit)


@pytest.mark.parametrize(
    ("expr", "match"),
    [
        ("p98 < 5ms", r"unknown metric 'p98'"),
        ("p99 < 5%", r"a latency takes the unit us, ms or s"),
        ("fail_ratio < 5ms", r"fail_ratio takes '%'"),
        ("requests > 5ms", r"requests is a count"),
        ("p99 less than 5ms", r"invalid threshold 'p99 less than 5ms'"),
        ("", r"invalid threshold ''"),
    ],
    ids=["unknown-metric", "latency-percent", "ratio-ms", "count-unit", "words", "empty"],
)
def test_parse_threshold_rejects(expr: str, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        parse_threshold(expr)


def test_judge_total_and_endpoint() -> None:
    thresholds = [
        parse_threshold(text) for text in ("p99 < 50ms", "fail_ratio < 0.1%", '"GET /db".p50 < 2ms')
    ]
    results = judge(thresholds, TOTAL, {"GET /db": {**TOTAL, "p50": 1.5}})
    assert [(result.value, result.passed) for result in results] == [
        (42.0, True),
        (0.005, False),
        (1.5, True),
    ]


def test_judge_unknown_endpoint_fails_without_value() -> None:
    results = judge([parse_threshold('"GET /typo".p99 < 50ms')], TOTAL, {})
    assert results[0].value is None
    assert not results[0].passed
