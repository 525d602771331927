"""The `asgi` server variant: the route table as a plain ASGI application, without a framework.

The handlers and responses are the ones the `raw` server serves; only the HTTP front
end differs, which is uvicorn's or granian's. The application adds `Server` (from the
response head), `Date` and `Content-Length` itself, so the hosts are configured not to.
"""

from __future__ import annotations

import logging

from targets.app.routes import RouteTable
from targets.http.date import DateHeader
from targets.http.limits import ConnectionLimits
from targets.http.reporting import ThrottledReporter
from targets.http.response import (
    BAD_REQUEST,
    CONTENT_TOO_LARGE,
    INTERNAL_SERVER_ERROR,
    Response,
)
from targets.servers.asgi_hosts import HostedAsgiServer, Message, Receive, Scope, Send
from targets.servers.base import ServerSettings

logger = logging.getLogger(__name__)

_errors = ThrottledReporter(logger, "request handler failed, sent 500")

# Methods whose requests the targets serve without reading a body.
_BODILESS_METHODS = frozenset({b"GET", b"HEAD", b"DELETE", b"OPTIONS"})


class _BodyRejectedError(Exception):
    """Raised while reading a body that the application refuses, with the response to send."""

    def __init__(self, response: Response) -> None:
        super().__init__(response[0].status.phrase)
        self.response = response


class AsgiApp:
    """Serve a route table as an ASGI 3 application (the `http` and `lifespan` scopes)."""

    def __init__(self, routes: RouteTable, date: DateHeader, limits: ConnectionLimits) -> None:
        """Dispatch to `routes`, stamping responses with `date`; bodies obey `limits`."""
        self._dispatch = routes.dispatch
        self._date = date
        self._max_body_bytes = limits.max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one ASGI connection scope."""
        scope_type = scope["type"]
        if scope_type == "http":
            await self._serve_http(scope, receive, send)
        elif scope_type == "lifespan":
            await _serve_lifespan(receive, send)

    async def _serve_http(self, scope: Scope, receive: Receive, send: Send) -> None:
        method = scope["method"].encode("ascii")
        path: bytes = scope.get("raw_path") or scope["path"].encode("utf-8")
        query: bytes = scope["query_string"]
        try:
            body = b"" if method in _BODILESS_METHODS else await self._read_body(scope, receive)
        except _BodyRejectedError as exc:
            await self._send_response(send, exc.response, method)
            return

        try:
            result = self._dispatch(method, path, query, body)
            response = result if isinstance(result, tuple) else await result
        except Exception as exc:
            _errors.report(exc)
            response = INTERNAL_SERVER_ERROR
        await self._send_response(send, response, method)

    async def _read_body(self, scope: Scope, receive: Receive) -> bytes:
        """Read the whole body, rejecting it from `Content-Length` before reading when possible."""
        for name, value in scope["headers"]:
            if name == b"content-length":
                if not value.isdigit():
                    raise _BodyRejectedError(BAD_REQUEST)
                if int(value) > self._max_body_bytes:
                    raise _BodyRejectedError(CONTENT_TOO_LARGE)

        chunks: list[bytes] = []
        received_bytes = 0
        more_body = True
        while more_body:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise _BodyRejectedError(BAD_REQUEST)
            chunk: bytes = message.get("body", b"")
            received_bytes += len(chunk)
            if received_bytes > self._max_body_bytes:
                raise _BodyRejectedError(CONTENT_TOO_LARGE)
            chunks.append(chunk)
            more_body = message.get("more_body", False)
        return b"".join(chunks)

    async def _send_response(self, send: Send, response: Response, method: bytes) -> None:
        head, body = response
        # `DateHeader.line` is the whole `Date: ...\r\n` line; ASGI wants the value alone.
        headers = [
            *head.headers,
            (b"Date", self._date.line[6:-2]),
            (b"Content-Length", b"%d" % len(body)),
        ]
        await send({"type": "http.response.start", "status": head.status.value, "headers": headers})
        await send({"type": "http.response.body", "body": b"" if method == b"HEAD" else body})


async def _serve_lifespan(receive: Receive, send: Send) -> None:
    """Acknowledge startup and shutdown; the server variant opens and closes storage itself."""
    while True:
        message: Message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


def create_asgi_server(settings: ServerSettings) -> HostedAsgiServer:
    """Create the `asgi` variant: `settings.routes` as an ASGI app on `settings.asgi_server`."""
    date = DateHeader()
    return HostedAsgiServer(AsgiApp(settings.routes, date, settings.limits), settings, date)


__all__ = ["AsgiApp", "create_asgi_server"]
