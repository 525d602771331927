"""The route table: maps a request's method and path to a handler, or to 404 or 405."""

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
class Route:
    """One path, the methods it accepts and the handler that serves it."""

    path: bytes
    methods: frozenset[bytes]
    handler: Handler


class RouteTable:
    """Dispatch requests by exact path, ignoring the query string."""

    __slots__ = ("_routes",)

    def __init__(self, routes: Iterable[Route]) -> None:
        """Index routes by path and precompute each path's 405 response.

        Raises:
            ValueError: two routes share a path.
        """
        self._routes: dict[bytes, tuple[frozenset[bytes], Handler, Response]] = {}
        for route in routes:
            if route.path in self._routes:
                raise ValueError(f"two routes share the path {route.path!r}")
            self._routes[route.path] = (
                route.methods,
                route.handler,
                _method_not_allowed(route.methods),
            )

    @property
    def paths(self) -> list[bytes]:
        """Every routed path, in the order the routes were given."""
        return list(self._routes)

    def dispatch(self, method: bytes, path: bytes, query: bytes) -> HandlerResult:
        """Call the handler for `path`, or return 404 or 405 with an `Allow` header."""
        entry = self._routes.get(path)
        if entry is None:
            return NOT_FOUND
        methods, handler, method_not_allowed = entry
        if method not in methods:
            return method_not_allowed
        return handler(query)


def _method_not_allowed(methods: frozenset[bytes]) -> Response:
    allow = b", ".join(sorted(methods))
    status = HTTPStatus.METHOD_NOT_ALLOWED
    head = make_head(status, CONTENT_TYPE_TEXT, ((b"Allow", allow),))
    return head, status.phrase.encode("ascii")
