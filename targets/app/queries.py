"""The `queries` parameter of `/queries` and `/updates`: how many rows to touch."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl

MIN_QUERIES = 1
MAX_QUERIES = 500

_INTEGER = re.compile(r"[+-]?[0-9]+")


def parse_query_count(query: bytes) -> int:
    """Read `queries` from a raw query string and clamp it to 1..500.

    A missing, empty or non-integer value counts as 1, as the TechEmpower rules ask.
    Integers of any length are clamped, including those too long for `int()`.

    Args:
        query: the part of the request target after `?`, still percent-encoded.
    """
    for name, value in parse_qsl(query.decode("latin-1")):
        if name == "queries":
            return clamp_query_count(value)
    return MIN_QUERIES


def clamp_query_count(value: str) -> int:
    """Clamp the text of one `queries` value to 1..500; non-integers count as 1."""
    text = value.strip()
    if not _INTEGER.fullmatch(text) or text.startswith("-"):
        return MIN_QUERIES

    digits = text.lstrip("+").lstrip("0")
    if len(digits) > len(str(MAX_QUERIES)):
        return MAX_QUERIES
    return min(max(int(digits or "0"), MIN_QUERIES), MAX_QUERIES)
