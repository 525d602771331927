"""The route table: maps a request's method and path to a handler, or to 404 or 405.

Two kinds of route exist. A `Route` serves one exact path with a handler that takes
only the raw query string, which keeps the TechEmpower endpoints as cheap as
possible. A `RequestRoute` gets the whole `Request` (method, path, query and body),
and with `prefix=True` it serves every path under its own, such as `/users/42`
under `/users/`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Coroutine, Iterable
from http import HTTPStatus
from typing import Any

from targets.http.response import (
    CONTENT_TYPE_TEXT,
    NOT_FOUND,
    Response,
    make_head,
)

HandlerResult = Response | Coroutine[Any, Any, Response]
"""A response, or a coroutine that returns one when the handler has to wait for storage."""

Handler = Callable[[bytes], HandlerResult]
"""Handle a request given its raw query string (the bytes after `?`, maybe empty)."""


@dataclasses.dataclass(frozen=True, slots=True)
class Request:
    """One parsed request, for handlers that need more than the query string.

    Attributes:
        method: the request method, such as `b"POST"`.
        path: the request path, without the query string.
        query: the raw query string (the bytes after `?`, maybe empty).
        body: the whole request body; empty when there is none.
        path_tail: for a prefix route, the part of `path` after the prefix
            (`b"42"` for `/users/42` under `/users/`); empty for an exact route.
    """

    method: bytes
    path: bytes
    query: bytes
    body: bytes = b""
    path_tail: bytes = b""


RequestHandler = Callable[[Request], HandlerResult]
"""Handle a request given the whole `Request`."""


@dataclasses.dataclass(frozen=True, slots=True)
class Route:
    """One path, the methods it accepts and the handler that serves it."""

    path: bytes
    methods: frozenset[bytes]
    handler: Handler


@dataclasses.dataclass(frozen=True, slots=True)
class RequestRoute:
    """A path, or with `prefix` every path below it, whose handler takes the whole request.

    A prefix route's path ends in `/`, and a path matches it only when something
    follows the prefix: `/users/` serves `/users/42` but not `/users/`.
    """

    path: bytes
    methods: frozenset[bytes]
    handler: RequestHandler
    prefix: bool = False


class RouteTable:
    """Dispatch requests by exact path, then by the longest matching prefix route."""

    __slots__ = ("_prefixes", "_request_routes", "_routes")

    def __init__(self, routes: Iterable[Route | RequestRoute]) -> None:
        """Index routes by path and precompute each path's 405 response.

        Raises:
            ValueError: two routes share a path, or a prefix route's path does not
                end in `/`.
        """
        self._routes: dict[bytes, tuple[frozenset[bytes], Handler, Response]] = {}
        self._request_routes: dict[bytes, tuple[frozenset[bytes], RequestHandler, Response]] = {}
        self._prefixes: list[tuple[bytes, frozenset[bytes], RequestHandler, Response]] = []
        seen: set[tuple[bytes, bool]] = set()
        for route in routes:
            is_prefix = isinstance(route, RequestRoute) and route.prefix
            if (route.path, is_prefix) in seen:
                raise ValueError(f"two routes share the path {route.path!r}")
            seen.add((route.path, is_prefix))
            method_not_allowed = _method_not_allowed(route.methods)
            if isinstance(route, Route):
                self._routes[route.path] = (route.methods, route.handler, method_not_allowed)
            elif not route.prefix:
                entry = (route.methods, route.handler, method_not_allowed)
                self._request_routes[route.path] = entry
            elif not route.path.endswith(b"/"):
                raise ValueError(f"prefix route {route.path!r} must end in '/'")
            else:
                self._prefixes.append(
                    (route.path, route.methods, route.handler, method_not_allowed)
                )
        # Longest prefix first, so `/a/b/` wins over `/a/` for `/a/b/c`.
        self._prefixes.sort(key=lambda entry: len(entry[0]), reverse=True)

    @property
    def paths(self) -> list[bytes]:
        """Every exact path, then every prefix, in the order the routes were given."""
        prefixes = sorted(self._prefixes, key=lambda entry: len(entry[0]))
        return [*self._routes, *self._request_routes, *(entry[0] for entry in prefixes)]

    def dispatch(
        self, method: bytes, path: bytes, query: bytes, body: bytes = b""
    ) -> HandlerResult:
        """Call the handler for `path`, or return 404 or 405 with an `Allow` header.

        Args:
            method: the request method.
            path: the request path, without the query string.
            query: the raw query string.
            body: the whole request body; only `RequestRoute` handlers see it.
        """
        entry = self._routes.get(path)
        if entry is not None:
            methods, handler, method_not_allowed = entry
            if method not in methods:
                return method_not_allowed
            return handler(query)
        return self._dispatch_request(method, path, query, body)

    def _dispatch_request(
        self, method: bytes, path: bytes, query: bytes, body: bytes
    ) -> HandlerResult:
        request_entry = self._request_routes.get(path)
        if request_entry is not None:
            methods, request_handler, method_not_allowed = request_entry
            if method not in methods:
                return method_not_allowed
            return request_handler(Request(method, path, query, body))

        for prefix, methods, request_handler, method_not_allowed in self._prefixes:
            if len(path) > len(prefix) and path.startswith(prefix):
                if method not in methods:
                    return method_not_allowed
                tail = path[len(prefix) :]
                return request_handler(Request(method, path, query, body, tail))
        return NOT_FOUND


def _method_not_allowed(methods: frozenset[bytes]) -> Response:
    allow = b", ".join(sorted(methods))
    status = HTTPStatus.METHOD_NOT_ALLOWED
    head = make_head(status, CONTENT_TYPE_TEXT, ((b"Allow", allow),))
    return head, status.phrase.encode("ascii")
