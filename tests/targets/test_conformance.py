"""Conformance of a real `perfgate serve` process to the TechEmpower endpoint rules, over HTTP."""

from __future__ import annotations

import re
import sqlite3
import time
from collections.abc import Iterator
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING

import httpx
import pytest

from targets.routing import jump_hash

if TYPE_CHECKING:
    from tests.targets.conftest import TargetProcess

IMF_FIXDATE = re.compile(
    r"(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} "
    r"(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} GMT"
)

EXPECTED_FORTUNES_PAGE = (
    "<!DOCTYPE html><html><head><title>Fortunes</title></head><body><table>"
    "<tr><th>id</th><th>message</th></tr>"
    "<tr><td>11</td><td>&lt;script&gt;alert(&quot;This should not be displayed in a browser "
    "alert box.&quot;);&lt;/script&gt;</td></tr>"
    "<tr><td>4</td><td>A bad random number generator: 1, 1, 1, 1, 1, 4.33e+67, 1, 1, 1</td></tr>"
    "<tr><td>5</td><td>A computer program does what you tell it to do, not what you want it to "
    "do.</td></tr>"
    "<tr><td>2</td><td>A computer scientist is someone who fixes things that aren&#x27;t "
    "broken.</td></tr>"
    "<tr><td>8</td><td>A list is only as strong as its weakest link. \u2014 Donald Knuth</td></tr>"
    "<tr><td>0</td><td>Additional fortune added at request time.</td></tr>"
    "<tr><td>3</td><td>After enough decimal places, nobody gives a damn.</td></tr>"
    "<tr><td>7</td><td>Any program that runs right is obsolete.</td></tr>"
    "<tr><td>10</td><td>Computers make very fast, very accurate mistakes.</td></tr>"
    "<tr><td>6</td><td>Emacs is a nice operating system, but I prefer UNIX. \u2014 Tom "
    "Christaensen</td></tr>"
    "<tr><td>9</td><td>Feature: A bug with seniority.</td></tr>"
    "<tr><td>1</td><td>fortune: No such file or directory</td></tr>"
    "<tr><td>12</td><td>\u30d5\u30ec\u30fc\u30e0\u30ef\u30fc\u30af\u306e\u30d9\u30f3\u30c1\u30de"
    "\u30fc\u30af</td></tr>"
    "</table></body></html>"
)

ALL_PATHS = ("/json", "/plaintext", "/db", "/queries", "/updates", "/fortunes", "/healthz")


@pytest.fixture
def client(target: TargetProcess) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=target.base_url, timeout=10.0) as http:
        yield http


def _assert_world(row: object) -> None:
    assert isinstance(row, dict)
    assert list(row) == ["id", "randomNumber"]
    assert 1 <= row["id"] <= 10_000
    assert 1 <= row["randomNumber"] <= 10_000


def _read_stored_numbers(target: TargetProcess, world_ids: list[int]) -> dict[int, int]:
    """Read rows straight from the shard files, bypassing the server."""
    numbers: dict[int, int] = {}
    for world_id in world_ids:
        path = target.data_dir / f"shard-{jump_hash(world_id, 4)}.sqlite3"
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as connection:
            row = connection.execute(
                "SELECT randomnumber FROM world WHERE id = ?", (world_id,)
            ).fetchone()
        numbers[world_id] = row[0]
    return numbers


def test_json_body(client: httpx.Client) -> None:
    response = client.get("/json")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.content == b'{"message":"Hello, World!"}'


def test_plaintext_body(client: httpx.Client) -> None:
    response = client.get("/plaintext")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/plain"
    assert response.content == b"Hello, World!"


@pytest.mark.parametrize("path", [*ALL_PATHS, "/missing"])
def test_common_headers_on_every_response(client: httpx.Client, path: str) -> None:
    response = client.get(path)
    assert response.headers["server"] == "perfgate"
    assert IMF_FIXDATE.fullmatch(response.headers["date"])
    assert int(response.headers["content-length"]) == len(response.content)


def test_date_header_is_current(client: httpx.Client) -> None:
    before_s = time.time()
    stamped_s = parsedate_to_datetime(client.get("/json").headers["date"]).timestamp()
    assert before_s - 2 <= stamped_s <= time.time() + 1


def test_date_header_refreshes(client: httpx.Client) -> None:
    first = client.get("/plaintext").headers["date"]
    deadline_s = time.monotonic() + 3.0
    latest = first
    while latest == first and time.monotonic() < deadline_s:
        time.sleep(0.05)
        latest = client.get("/plaintext").headers["date"]
    assert latest != first
    assert parsedate_to_datetime(latest) > parsedate_to_datetime(first)


def test_db_returns_one_row(client: httpx.Client) -> None:
    for _ in range(20):
        response = client.get("/db")
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/json"
        _assert_world(response.json())


def test_db_ids_vary(client: httpx.Client) -> None:
    world_ids = {client.get("/db").json()["id"] for _ in range(30)}
    assert len(world_ids) > 20


@pytest.mark.parametrize(
    ("query", "expected_count"),
    [
        ("", 1),
        ("?queries=", 1),
        ("?queries=foo", 1),
        ("?queries=0", 1),
        ("?queries=-5", 1),
        ("?queries=1", 1),
        ("?queries=20", 20),
        ("?queries=500", 500),
        ("?queries=501", 500),
        ("?queries=9999999999999999999999", 500),
    ],
    ids=["missing", "empty", "foo", "0", "-5", "1", "20", "500", "501", "huge"],
)
@pytest.mark.parametrize("path", ["/queries", "/updates"])
def test_query_count_clamped(
    client: httpx.Client, path: str, query: str, expected_count: int
) -> None:
    response = client.get(path + query)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    rows = response.json()
    assert isinstance(rows, list)
    assert len(rows) == expected_count
    for row in rows:
        _assert_world(row)


def test_updates_store_new_numbers(client: httpx.Client, target: TargetProcess) -> None:
    rows = client.get("/updates?queries=20").json()
    returned = {row["id"]: row["randomNumber"] for row in rows}

    stored = _read_stored_numbers(target, list(returned))

    assert stored == returned


def test_updates_change_stored_rows(client: httpx.Client, target: TargetProcess) -> None:
    # Read every row before, so that the ids the server picks can be compared after.
    before = _read_stored_numbers(target, list(range(1, 10_001)))

    rows = client.get("/updates?queries=50").json()

    world_ids = [row["id"] for row in rows]
    after = _read_stored_numbers(target, world_ids)
    changed = [world_id for world_id in world_ids if after[world_id] != before[world_id]]
    # Each new number equals the old one with probability 1 / 10,000.
    assert len(changed) >= len(set(world_ids)) - 2


def test_fortunes_page(client: httpx.Client) -> None:
    response = client.get("/fortunes")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.content.decode("utf-8") == EXPECTED_FORTUNES_PAGE


def test_healthz_ready(client: httpx.Client) -> None:
    assert client.get("/healthz").status_code == 200


def test_unknown_path_not_found(client: httpx.Client) -> None:
    assert client.get("/nope").status_code == 404
    assert client.get("/json/").status_code == 404


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "HEAD"])
def test_wrong_method_not_allowed(client: httpx.Client, method: str) -> None:
    response = client.request(method, "/json")
    assert response.status_code == 405
    assert response.headers["allow"] == "GET"


@pytest.mark.parametrize("path", ["/json?x=1", "/plaintext?queries=3&a=b", "/db?"])
def test_query_string_ignored_for_routing(client: httpx.Client, path: str) -> None:
    assert client.get(path).status_code == 200


def test_head_response_has_no_body(client: httpx.Client) -> None:
    head = client.head("/json")
    assert head.status_code == 405
    assert head.content == b""
    # The same keep-alive connection must still frame the next response correctly.
    assert client.get("/json").content == b'{"message":"Hello, World!"}'
