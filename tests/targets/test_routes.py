"""The route table's request routes: whole requests, bodies and prefix paths."""

from __future__ import annotations

from http import HTTPStatus

import pytest

from targets.app.routes import Request, RequestRoute, Route, RouteTable
from targets.http.response import NOT_FOUND, Response, make_status_response

_POST = frozenset({b"POST"})
_GET = frozenset({b"GET"})
OK = make_status_response(HTTPStatus.OK)


def _table(seen: list[Request]) -> RouteTable:
    def record(request: Request) -> Response:
        seen.append(request)
        return OK

    return RouteTable(
        [
            Route(b"/json", _GET, lambda query: OK),
            RequestRoute(b"/users", _POST, record),
            RequestRoute(b"/users/", _GET, record, prefix=True),
            RequestRoute(b"/users/admin/", _GET, record, prefix=True),
        ]
    )


def test_request_route_gets_body() -> None:
    seen: list[Request] = []
    _table(seen).dispatch(b"POST", b"/users", b"x=1", b'{"name":"a"}')
    assert seen == [Request(b"POST", b"/users", b"x=1", b'{"name":"a"}')]


def test_prefix_route_gets_tail() -> None:
    seen: list[Request] = []
    _table(seen).dispatch(b"GET", b"/users/42", b"")
    assert seen[0].path_tail == b"42"


def test_longest_prefix_wins() -> None:
    seen: list[Request] = []
    _table(seen).dispatch(b"GET", b"/users/admin/7", b"")
    assert seen[0].path_tail == b"7"


def test_bare_prefix_not_found() -> None:
    assert _table([]).dispatch(b"GET", b"/users/", b"") is NOT_FOUND


def test_prefix_route_wrong_method() -> None:
    result = _table([]).dispatch(b"DELETE", b"/users/1", b"")
    assert isinstance(result, tuple)
    assert result[0].status is HTTPStatus.METHOD_NOT_ALLOWED
    assert (b"Allow", b"GET") in result[0].headers


def test_paths_list_exact_then_prefixes() -> None:
    assert _table([]).paths == [b"/json", b"/users", b"/users/", b"/users/admin/"]


def test_prefix_without_slash_rejected() -> None:
    route = RequestRoute(b"/users", _GET, lambda request: OK, prefix=True)
    with pytest.raises(ValueError, match="must end in '/'"):
        RouteTable([route])
