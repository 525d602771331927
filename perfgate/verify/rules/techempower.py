"""The TechEmpower endpoint rules: /json, /plaintext, /db, /queries, /updates, /fortunes.

The rules are the TechEmpower Framework Benchmarks' test types as the targets
implement them. /json and /plaintext have exact bodies. World rows have ids and
numbers in 1..10,000, and the query count is clamped to 1..500, where a missing or
non-integer value counts as 1. The fortunes page has the fortune added at request
time, escapes HTML and sorts by message.
"""

from __future__ import annotations

import html
import re

from perfgate.verify.expect import (
    expect_common_headers,
    expect_json,
    expect_media_type,
    expect_status,
    expect_world,
)
from perfgate.verify.model import RuleViolationError
from perfgate.verify.registry import Endpoint, Probe, rule
from targets.storage.seed import FORTUNES

JSON = Endpoint("/json")
PLAINTEXT = Endpoint("/plaintext")
DB = Endpoint("/db")
QUERIES = Endpoint("/queries")
UPDATES = Endpoint("/updates")
FORTUNES_PAGE = Endpoint("/fortunes")

ADDED_FORTUNE = (0, "Additional fortune added at request time.")
EXPECTED_FORTUNES = sorted([*FORTUNES, ADDED_FORTUNE], key=lambda row: row[1])

# `queries` values and the row counts the rules require for them.
QUERY_COUNTS = (
    ("", 1),
    ("?queries=", 1),
    ("?queries=foo", 1),
    ("?queries=0", 1),
    ("?queries=1", 1),
    ("?queries=20", 20),
    ("?queries=501", 500),
)

_FORTUNE_ROW = re.compile(
    r"<tr>\s*<td>\s*(?P<id>[^<]*?)\s*</td>\s*<td>(?P<message>.*?)</td>\s*</tr>", re.DOTALL
)
_SCRIPT_FORTUNE_ID = 11


@rule(JSON, "GET /json returns the message object with the common headers")
def json_message(probe: Probe) -> None:
    response = probe.get("/json")
    expect_status(response, 200)
    expect_media_type(response, "application/json")
    expect_common_headers(response)
    body = expect_json(response)
    if body != {"message": "Hello, World!"}:
        raise RuleViolationError(f'expected {{"message": "Hello, World!"}}, got {body!r}')


@rule(PLAINTEXT, "GET /plaintext returns Hello, World! as text")
def plaintext(probe: Probe) -> None:
    response = probe.get("/plaintext")
    expect_status(response, 200)
    expect_media_type(response, "text/plain")
    expect_common_headers(response)
    if response.content != b"Hello, World!":
        raise RuleViolationError(
            f"expected the body b'Hello, World!', got {response.content[:80]!r}"
        )


@rule(DB, "GET /db returns one world object")
def single_query(probe: Probe) -> None:
    response = probe.get("/db")
    expect_status(response, 200)
    expect_media_type(response, "application/json")
    expect_common_headers(response)
    expect_world(expect_json(response), "body")


@rule(DB, "GET /db picks rows at random")
def single_query_random(probe: Probe) -> None:
    world_ids = set()
    for _ in range(10):
        response = probe.get("/db")
        expect_status(response, 200)
        world_ids.add(expect_world(expect_json(response), "body")[0])
    if len(world_ids) < 5:
        raise RuleViolationError(
            f"10 requests returned only {len(world_ids)} distinct ids: {world_ids}"
        )


def _check_world_list(probe: Probe, path: str, expected_count: int) -> None:
    response = probe.get(path)
    expect_status(response, 200)
    expect_media_type(response, "application/json")
    expect_common_headers(response)
    rows = expect_json(response)
    if not isinstance(rows, list):
        raise RuleViolationError(f"expected a JSON array, got {type(rows).__name__}")
    if len(rows) != expected_count:
        raise RuleViolationError(f"expected {expected_count} rows, got {len(rows)}")
    for index, row in enumerate(rows):
        expect_world(row, f"row {index}")


@rule(QUERIES, "GET /queries returns as many rows as asked, clamped to 1..500")
def multiple_queries(probe: Probe) -> None:
    for query, expected_count in QUERY_COUNTS:
        _check_world_list(probe, "/queries" + query, expected_count)


@rule(UPDATES, "GET /updates returns as many updated rows as asked, clamped to 1..500")
def updates(probe: Probe) -> None:
    # NOTE: this rule cannot see whether the new numbers are stored, because that needs
    # a look inside the database. The targets' conformance tests check it.
    for query, expected_count in QUERY_COUNTS:
        _check_world_list(probe, "/updates" + query, expected_count)


@rule(FORTUNES_PAGE, "GET /fortunes returns every fortune, escaped, sorted, in UTF-8 HTML")
def fortunes(probe: Probe) -> None:
    response = probe.get("/fortunes")
    expect_status(response, 200)
    expect_media_type(response, "text/html")
    expect_common_headers(response)
    content_type = response.headers["content-type"].lower().replace(" ", "")
    if "charset=utf-8" not in content_type:
        raise RuleViolationError(f"expected charset=utf-8 in Content-Type, got {content_type!r}")

    page = response.content.decode("utf-8", errors="strict")
    if not page.lstrip().lower().startswith("<!doctype html>"):
        raise RuleViolationError("expected the page to start with <!DOCTYPE html>")
    if "<script>" in page:
        raise RuleViolationError("the page contains an unescaped <script> from a fortune message")

    rows = [(match["id"], match["message"]) for match in _FORTUNE_ROW.finditer(page)]
    found = [(_fortune_id(raw_id), html.unescape(message)) for raw_id, message in rows]
    if found != EXPECTED_FORTUNES:
        raise RuleViolationError(
            f"expected {len(EXPECTED_FORTUNES)} fortunes sorted by message, got {len(found)}: "
            f"{found[:3]!r}..."
        )
    script_message = dict(rows)[str(_SCRIPT_FORTUNE_ID)]
    if "&lt;script&gt;" not in script_message:
        raise RuleViolationError(
            f"expected fortune {_SCRIPT_FORTUNE_ID} escaped, got {script_message!r}"
        )


def _fortune_id(text: str) -> int:
    if not text.isdigit():
        raise RuleViolationError(f"fortune id {text!r} is not an integer")
    return int(text)
