"""The target application: routing and endpoint handlers, independent of the server.

A server variant parses HTTP, calls `RouteTable.dispatch(method, path, query)` and
frames the `Response` it gets back (see `targets.http.response`).
"""

from __future__ import annotations

from targets.app.endpoints import Endpoints
from targets.app.routes import Handler, HandlerResult, Route, RouteTable
from targets.codecs.base import Codec
from targets.storage.base import Storage


def build_route_table(codec: Codec, storage: Storage) -> RouteTable:
    """Route every TechEmpower endpoint, plus `/healthz`, to handlers on `codec` and `storage`."""
    return RouteTable(Endpoints(codec, storage).routes())


__all__ = ["Endpoints", "Handler", "HandlerResult", "Route", "RouteTable", "build_route_table"]
