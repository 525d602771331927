"""The `raw` server's connection handler: an asyncio Protocol that parses with httptools.

Requests on one connection may be pipelined, and responses leave in request order.
Responses that are ready during one `data_received` call are written with one
`write` or `writelines` call. While a handler awaits storage, every later response
on its connection waits until that handler's response is written.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Coroutine
from typing import Any, cast

import httptools

from targets.app.routes import HandlerResult, RouteTable
from targets.http.date import DateHeader
from targets.http.response import (
    BAD_REQUEST,
    CONNECTION_CLOSE,
    CONNECTION_KEEP_ALIVE,
    CONTENT_TOO_LARGE,
    HEADERS_TOO_LARGE,
    INTERNAL_SERVER_ERROR,
    Response,
    encode_head_response,
    encode_response,
)

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 1 << 20
"""Largest request body accepted; a longer one gets 413 and the connection closes."""

MAX_HEAD_BYTES = 64 << 10
"""Largest request head accepted, counted as described in `HttpProtocol`; 431 past it."""

MAX_QUEUED_REQUESTS = 64
"""Requests waiting on one connection behind a storage call before reading pauses."""

_ERROR_REPORT_INTERVAL_S = 1.0


class _RequestRejectedError(Exception):
    """Raised in a parser callback to stop parsing and respond with `response`."""

    def __init__(self, response: Response) -> None:
        super().__init__(response[0].status.phrase)
        self.response = response


class _ErrorReporter:
    """Log handler errors at most once per interval, counting the ones not logged."""

    def __init__(self, interval_s: float = _ERROR_REPORT_INTERVAL_S) -> None:
        self._interval_s = interval_s
        self._next_report_s = 0.0
        self._suppressed = 0

    def report(self, exc: BaseException) -> None:
        now_s = time.monotonic()
        if now_s < self._next_report_s:
            self._suppressed += 1
            return
        logger.error(
            "request handler failed, sent 500 (%d failures since the previous report not logged)",
            self._suppressed,
            exc_info=exc,
        )
        self._suppressed = 0
        self._next_report_s = now_s + self._interval_s


_errors = _ErrorReporter()


class HttpProtocol(asyncio.Protocol):
    """One HTTP/1.1 connection: parse, dispatch, frame and write responses in order.

    Limits: a body over `MAX_BODY_BYTES` gets 413, and a head over `MAX_HEAD_BYTES`
    gets 431; both then close the connection. The head is counted in whole reads from
    the read after the one in which it starts, so a head may exceed the limit by up to
    one read (256 KiB on asyncio 3.11, 256,000 bytes on uvloop 0.23) before it is
    rejected.
    A request httptools rejects gets 400 and the connection closes.
    """

    __slots__ = (
        "_batch",
        "_body_bytes",
        "_body_chunks",
        "_closing",
        "_connections",
        "_date",
        "_dispatch",
        "_drain_task",
        "_head_bytes",
        "_in_head",
        "_keep_alive_line",
        "_loop",
        "_parser",
        "_pending",
        "_reading_paused",
        "_transport",
        "_url",
        "_writing_paused",
    )

    def __init__(
        self, routes: RouteTable, date: DateHeader, connections: set[HttpProtocol]
    ) -> None:
        """Serve `routes` on one connection, registering it in `connections` while open."""
        self._dispatch = routes.dispatch
        self._date = date
        self._connections = connections
        self._loop = asyncio.get_running_loop()
        self._parser = httptools.HttpRequestParser(self)
        self._transport: asyncio.Transport | None = None
        self._batch: list[bytes] = []
        self._pending: deque[tuple[HandlerResult, bytes, bool]] = deque()
        self._drain_task: asyncio.Task[None] | None = None
        self._url = b""
        self._in_head = False
        self._head_bytes = 0
        self._body_bytes = 0
        self._body_chunks: list[bytes] = []
        self._closing = False
        self._keep_alive_line: bytes | None = None
        self._reading_paused = False
        self._writing_paused = False

    # asyncio.Protocol callbacks

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """Register the connection."""
        self._transport = cast(asyncio.Transport, transport)
        self._connections.add(self)

    def connection_lost(self, exc: Exception | None) -> None:
        """Unregister the connection and drop requests whose responses are not written yet."""
        self._connections.discard(self)
        self._closing = True
        if self._drain_task is not None:
            self._drain_task.cancel()
        else:
            _close_unstarted(self._pending)

    def data_received(self, data: bytes) -> None:
        """Parse `data` and respond to each complete request; see the class for limits."""
        if self._closing:
            return
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserCallbackError as exc:
            if isinstance(exc.__context__, _RequestRejectedError):
                self._reject(exc.__context__.response)
            else:
                _errors.report(exc)
                self._reject(INTERNAL_SERVER_ERROR)
        except httptools.HttpParserError:
            self._reject(BAD_REQUEST)
        except httptools.HttpParserUpgrade:
            # Bytes after an Upgrade request are another protocol, which the targets
            # do not speak, so respond to the requests before it and close.
            self._closing = True
        else:
            if self._in_head:
                self._count_head_bytes(len(data))
        self._flush()

    def pause_writing(self) -> None:
        """Stop reading requests while the transport's write buffer is full."""
        self._writing_paused = True
        self._update_reading()

    def resume_writing(self) -> None:
        """Read requests again once the write buffer has drained."""
        self._writing_paused = False
        self._update_reading()

    # httptools callbacks

    def on_message_begin(self) -> None:
        """Start a new request."""
        self._url = b""
        self._in_head = True
        self._head_bytes = -1
        self._body_bytes = 0
        self._body_chunks = []

    def on_url(self, url: bytes) -> None:
        """Collect the request target, which may arrive in pieces."""
        self._url += url

    def on_headers_complete(self) -> None:
        """End the head; its size no longer counts."""
        self._in_head = False

    def on_body(self, body: bytes) -> None:
        """Collect body bytes, rejecting the request past `MAX_BODY_BYTES`."""
        self._body_bytes += len(body)
        if self._body_bytes > MAX_BODY_BYTES:
            raise _RequestRejectedError(CONTENT_TOO_LARGE)
        self._body_chunks.append(body)

    def on_message_complete(self) -> None:
        """Dispatch the request and queue its response behind earlier ones."""
        if self._closing:
            return
        url = self._url
        if url.startswith(b"/"):
            path, _, query = url.partition(b"?")
        else:
            path, query = _split_absolute_target(url)
        parser = self._parser
        method = parser.get_method()
        try:
            body = b"".join(self._body_chunks) if self._body_chunks else b""
            result = self._dispatch(method, path, query, body)
        except Exception as exc:
            _errors.report(exc)
            result = INTERNAL_SERVER_ERROR

        if not parser.should_keep_alive():
            connection_line = CONNECTION_CLOSE
            self._closing = True
        elif self._keep_alive_line is not None:
            connection_line = self._keep_alive_line
        else:
            connection_line = self._check_keep_alive_line()

        if method == b"HEAD":
            self._enqueue(result, connection_line, head_only=True)
        elif self._pending or not isinstance(result, tuple):
            self._enqueue(result, connection_line)
        else:
            self._batch.append(encode_response(result, self._date.line, connection_line))

    # Writing responses

    def close(self) -> None:
        """Close the connection now, dropping requests whose responses are not written yet."""
        self._closing = True
        if self._drain_task is not None:
            self._drain_task.cancel()
        if self._transport is not None:
            self._transport.close()

    def abort(self) -> None:
        """Close the connection at once, discarding buffered writes."""
        self.close()
        if self._transport is not None:
            self._transport.abort()

    def _check_keep_alive_line(self) -> bytes:
        """Pick the header that keeps this connection open, from its first request.

        HTTP/1.0 clients need `Connection: keep-alive` to keep a connection open, and
        HTTP/1.1 clients need nothing. `get_http_version` formats a new string each
        call, about 0.4 us on a 2-CPU test machine, close to the 0.5 us httptools takes
        to parse a whole `/json` request there, so the version is read once per
        connection. A client that changes version mid-connection gets an extra header
        or a closed connection, never a wrong response.
        """
        if self._parser.get_http_version() == "1.0":
            self._keep_alive_line = CONNECTION_KEEP_ALIVE
        else:
            self._keep_alive_line = b""
        return self._keep_alive_line

    def _reject(self, response: Response) -> None:
        if self._closing:
            return
        self._closing = True
        if self._pending:
            self._enqueue(response, CONNECTION_CLOSE)
        else:
            self._batch.append(encode_response(response, self._date.line, CONNECTION_CLOSE))

    def _flush(self) -> None:
        transport = self._transport
        if transport is None:
            return
        batch = self._batch
        if batch:
            if len(batch) == 1:
                transport.write(batch[0])
            else:
                transport.writelines(batch)
            batch.clear()
        if self._closing and not self._pending:
            transport.close()

    def _count_head_bytes(self, read_bytes: int) -> None:
        if self._head_bytes < 0:
            self._head_bytes = 0
            return
        self._head_bytes += read_bytes
        if self._head_bytes > MAX_HEAD_BYTES:
            self._in_head = False
            self._reject(HEADERS_TOO_LARGE)

    def _enqueue(
        self, result: HandlerResult, connection_line: bytes, head_only: bool = False
    ) -> None:
        """Queue a response behind earlier ones; `head_only` drops the body, for HEAD."""
        self._pending.append((result, connection_line, head_only))
        if self._drain_task is None:
            self._drain_task = self._loop.create_task(self._drain())
        if len(self._pending) >= MAX_QUEUED_REQUESTS:
            self._update_reading()

    async def _drain(self) -> None:
        """Write responses to queued requests in order, awaiting each handler that needs storage."""
        pending = self._pending
        try:
            while pending:
                result, connection_line, head_only = pending[0]
                response = result if isinstance(result, tuple) else await _complete(result)
                transport = self._transport
                if transport is None or transport.is_closing():
                    return
                encode = encode_head_response if head_only else encode_response
                transport.write(encode(response, self._date.line, connection_line))
                pending.popleft()
                if connection_line is CONNECTION_CLOSE:
                    transport.close()
                    return
                if self._reading_paused:
                    self._update_reading()
            if self._closing and self._transport is not None:
                self._transport.close()
        finally:
            self._drain_task = None
            _close_unstarted(pending)

    def _update_reading(self) -> None:
        transport = self._transport
        if transport is None or transport.is_closing():
            return
        should_pause = self._writing_paused or len(self._pending) >= MAX_QUEUED_REQUESTS
        if should_pause and not self._reading_paused:
            transport.pause_reading()
        elif not should_pause and self._reading_paused:
            transport.resume_reading()
        self._reading_paused = should_pause


async def _complete(handler: Coroutine[Any, Any, Response]) -> Response:
    """Await a handler, responding 500 to any error other than cancellation."""
    try:
        return await handler
    except Exception as exc:
        _errors.report(exc)
        return INTERNAL_SERVER_ERROR


def _close_unstarted(pending: deque[tuple[HandlerResult, bytes, bool]]) -> None:
    """Close queued handler coroutines, so none is left never awaited, and clear the queue."""
    for result, _, _ in pending:
        if not isinstance(result, tuple):
            result.close()
    pending.clear()


def _split_absolute_target(url: bytes) -> tuple[bytes, bytes]:
    """Split an absolute-form target (`http://host/json?x=1`) or `*` into path and query."""
    try:
        parsed = httptools.parse_url(url)
    except httptools.HttpParserInvalidURLError:
        return url, b""
    return parsed.path or b"", parsed.query or b""
