"""The `queries` parameter: clamped to 1..500, with bad values counting as 1."""

from __future__ import annotations

import pytest

from targets.app.queries import clamp_query_count, parse_query_count


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (b"", 1),
        (b"queries=", 1),
        (b"queries=foo", 1),
        (b"queries=0", 1),
        (b"queries=-5", 1),
        (b"queries=1", 1),
        (b"queries=20", 20),
        (b"queries=500", 500),
        (b"queries=501", 500),
        (b"queries=9999999999999999999999", 500),
    ],
    ids=["missing", "empty", "foo", "0", "-5", "1", "20", "500", "501", "9999999999999999999999"],
)
def test_query_count_clamped(query: bytes, expected: int) -> None:
    assert parse_query_count(query) == expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (b"other=3&queries=7", 7),
        (b"queries=7&queries=9", 7),
        (b"queries=%2B12", 12),
        (b"queries=+12", 12),
        (b"queries=0012", 12),
        (b"queries=1.5", 1),
        (b"queries=1_0", 1),
        (b"queries=%EF%BC%93", 1),
        (b"queries=" + b"9" * 5000, 500),
        (b"queries=-" + b"9" * 5000, 1),
        (b"queries", 1),
    ],
    ids=[
        "among-others",
        "first-wins",
        "encoded-plus",
        "space-from-plus",
        "leading-zeros",
        "decimal",
        "underscore",
        "fullwidth-digit",
        "longer-than-int-limit",
        "negative-long",
        "no-equals",
    ],
)
def test_query_count_edge_cases(query: bytes, expected: int) -> None:
    assert parse_query_count(query) == expected


def test_clamp_strips_whitespace() -> None:
    assert clamp_query_count(" 42 ") == 42
