"""The route table and endpoints on in-memory storage, without a server."""

from __future__ import annotations

import json
from http import HTTPStatus

import pytest

from targets.app import RouteTable, build_route_table
from targets.app.routes import HandlerResult, Route
from targets.codecs import get_codec
from targets.http.response import Response
from targets.storage.memory import MemoryStorage


async def _call(
    routes: RouteTable, path: bytes, query: bytes = b"", method: bytes = b"GET"
) -> Response:
    result: HandlerResult = routes.dispatch(method, path, query)
    if isinstance(result, tuple):
        return result
    return await result


@pytest.fixture
def storage() -> MemoryStorage:
    return MemoryStorage()


@pytest.fixture
def routes(storage: MemoryStorage) -> RouteTable:
    return build_route_table(get_codec("orjson"), storage)


def test_every_endpoint_routed(routes: RouteTable) -> None:
    assert routes.paths == [
        b"/json",
        b"/plaintext",
        b"/db",
        b"/queries",
        b"/updates",
        b"/fortunes",
        b"/healthz",
    ]


async def test_json_built_per_request(routes: RouteTable) -> None:
    first = await _call(routes, b"/json")
    second = await _call(routes, b"/json")
    assert first[1] == b'{"message":"Hello, World!"}'
    assert first[1] is not second[1]


async def test_plaintext_is_text(routes: RouteTable) -> None:
    head, body = await _call(routes, b"/plaintext")
    assert head.status is HTTPStatus.OK
    assert (b"Content-Type", b"text/plain") in head.headers
    assert body == b"Hello, World!"


async def test_db_reads_storage(routes: RouteTable, storage: MemoryStorage) -> None:
    head, body = await _call(routes, b"/db")
    row = json.loads(body)
    assert (b"Content-Type", b"application/json") in head.headers
    assert storage.worlds[row["id"]] == row["randomNumber"]


async def test_queries_count_from_query_string(routes: RouteTable) -> None:
    _, body = await _call(routes, b"/queries", b"queries=7")
    assert len(json.loads(body)) == 7


async def test_updates_write_storage(routes: RouteTable, storage: MemoryStorage) -> None:
    _, body = await _call(routes, b"/updates", b"queries=30")
    rows = json.loads(body)
    assert len(rows) == 30
    for row in rows:
        assert storage.worlds[row["id"]] == row["randomNumber"]


async def test_fortunes_escaped_and_sorted(routes: RouteTable) -> None:
    head, body = await _call(routes, b"/fortunes")
    page = body.decode("utf-8")
    assert (b"Content-Type", b"text/html; charset=utf-8") in head.headers
    assert "<script>" not in page
    assert page.index("&lt;script&gt;") < page.index("Additional fortune") < page.index("fortune:")


async def test_fortunes_read_on_each_request(routes: RouteTable, storage: MemoryStorage) -> None:
    storage.fortunes.append((13, "Added after start."))
    _, body = await _call(routes, b"/fortunes")
    assert b"<tr><td>13</td><td>Added after start.</td></tr>" in body


async def test_healthz_follows_storage(routes: RouteTable, storage: MemoryStorage) -> None:
    assert (await _call(routes, b"/healthz"))[0].status is HTTPStatus.OK
    await storage.close()
    assert (await _call(routes, b"/healthz"))[0].status is HTTPStatus.SERVICE_UNAVAILABLE


async def test_unknown_path_not_found(routes: RouteTable) -> None:
    head, _ = await _call(routes, b"/missing")
    assert head.status is HTTPStatus.NOT_FOUND


async def test_wrong_method_lists_allowed(routes: RouteTable) -> None:
    head, _ = await _call(routes, b"/db", method=b"POST")
    assert head.status is HTTPStatus.METHOD_NOT_ALLOWED
    assert (b"Allow", b"GET") in head.headers
    assert b"\r\nAllow: GET\r\n" in head.raw


def test_route_table_rejects_duplicate_path() -> None:
    def handler(query: bytes) -> Response:
        raise AssertionError("never called")

    route = Route(b"/json", frozenset({b"GET"}), handler)
    with pytest.raises(ValueError, match="two routes share the path b'/json'"):
        RouteTable([route, route])
