"""The `raw` server's connection handler: an asyncio Protocol that parses with httptools.

Requests on one connection may be pipelined, and responses leave in request order.
Responses that are ready during one `data_received` call are written with one
`write` or `writelines` call. While a handler awaits storage, every later response
on its connection waits until that handler's response is written.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Coroutine
from typing import Any, cast

import httptools

from targets.app.routes import HandlerResult, RouteTable
from targets.http.date import DateHeader
from targets.http.limits import ConnectionLimits
from targets.http.reporting import ThrottledReporter
from targets.http.response import (
    BAD_REQUEST,
    CONNECTION_CLOSE,
    CONNECTION_KEEP_ALIVE,
    CONTENT_TOO_LARGE,
    HEADERS_TOO_LARGE,
    INTERNAL_SERVER_ERROR,
    REQUEST_TIMEOUT,
    TOO_MANY_CONNECTIONS,
    Response,
    encode_head_response,
    encode_response,
)

logger = logging.getLogger(__name__)

MAX_QUEUED_REQUESTS = 64
"""Requests waiting on one connection behind a storage call before reading pauses."""

_CONTENT_LENGTH = b"content-length"

# Extra bytes a header line has on the wire beyond its name and value: ": " and CRLF.
_HEADER_LINE_OVERHEAD = 4


class _RequestRejectedError(Exception):
    """Raised in a parser callback to stop parsing and respond with `response`."""

    def __init__(self, response: Response) -> None:
        super().__init__(response[0].status.phrase)
        self.response = response


_errors = ThrottledReporter(logger, "request handler failed, sent 500")
_refusals = ThrottledReporter(
    logger, "open connection limit reached, sent 503 and closed a new connection", logging.WARNING
)


class HttpProtocol(asyncio.Protocol):
    """One HTTP/1.1 connection: parse, dispatch, frame and write responses in order.

    Limits come from a `ConnectionLimits`, and every rejection closes the connection
    after its response:

    - a body over `max_body_bytes` gets 413, before any body byte is read when
      `Content-Length` announces it, else as soon as the chunks pass the limit;
    - a head over `max_head_bytes` gets 431. Complete header lines and the request
      target are counted exactly. The line still in progress at the end of a read
      counts as every byte after the read's last newline, so a head never grows past
      the limit by more than one read;
    - a request httptools rejects (malformed request line, header or chunked
      encoding) gets 400;
    - `check_timeouts`, called by the server on a timer, responds 408 to a request
      not fully received within `read_timeout_s` and closes a connection idle for
      `idle_timeout_s`;
    - a connection opened while `max_connections` others are open gets 503.
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
        "_in_message",
        "_keep_alive_line",
        "_limits",
        "_line_bytes",
        "_loop",
        "_max_body_bytes",
        "_max_head_bytes",
        "_parser",
        "_pending",
        "_reading_paused",
        "_request_count",
        "_transport",
        "_url",
        "_watch_since_s",
        "_watch_state",
        "_writing_paused",
    )

    def __init__(
        self,
        routes: RouteTable,
        date: DateHeader,
        connections: set[HttpProtocol],
        limits: ConnectionLimits | None = None,
    ) -> None:
        """Serve `routes` on one connection, registering it in `connections` while open."""
        self._limits = limits if limits is not None else ConnectionLimits()
        self._max_head_bytes = self._limits.max_head_bytes
        self._max_body_bytes = self._limits.max_body_bytes
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
        self._in_message = False
        self._head_bytes = 0
        self._line_bytes = 0
        self._body_bytes = 0
        self._body_chunks: list[bytes] = []
        self._closing = False
        self._keep_alive_line: bytes | None = None
        self._reading_paused = False
        self._writing_paused = False
        self._request_count = 0
        self._watch_state: tuple[int, bool, int] = (0, False, 0)
        self._watch_since_s = self._loop.time()

    # asyncio.Protocol callbacks

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """Register the connection, or refuse it with 503 when the server is full."""
        self._transport = cast(asyncio.Transport, transport)
        if len(self._connections) >= self._limits.max_connections:
            self._closing = True
            _refusals.report()
            self._transport.write(
                encode_response(TOO_MANY_CONNECTIONS, self._date.line, CONNECTION_CLOSE)
            )
            self._transport.close()
            return
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
                self._count_line_in_progress(data)
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
        self._in_message = True
        self._request_count += 1
        self._head_bytes = 0
        self._line_bytes = 0
        self._body_bytes = 0
        self._body_chunks = []

    def on_url(self, url: bytes) -> None:
        """Collect the request target, which may arrive in pieces."""
        self._url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        """Count the header line, and reject an announced body over the limit at once."""
        self._head_bytes += len(name) + len(value) + _HEADER_LINE_OVERHEAD
        if self._head_bytes + len(self._url) > self._max_head_bytes:
            raise _RequestRejectedError(HEADERS_TOO_LARGE)
        # llhttp rejects a Content-Length that is not a decimal number, so only size matters.
        if (
            len(name) == len(_CONTENT_LENGTH)
            and name.lower() == _CONTENT_LENGTH
            and value.strip().isdigit()
            and int(value) > self._max_body_bytes
        ):
            raise _RequestRejectedError(CONTENT_TOO_LARGE)

    def on_headers_complete(self) -> None:
        """End the head, rejecting it if the request target made it too large."""
        self._in_head = False
        if self._head_bytes + len(self._url) > self._max_head_bytes:
            raise _RequestRejectedError(HEADERS_TOO_LARGE)

    def on_body(self, body: bytes) -> None:
        """Collect body bytes, rejecting the request past `max_body_bytes`."""
        self._body_bytes += len(body)
        if self._body_bytes > self._max_body_bytes:
            raise _RequestRejectedError(CONTENT_TOO_LARGE)
        self._body_chunks.append(body)

    def on_message_complete(self) -> None:
        """Dispatch the request and queue its response behind earlier ones."""
        self._in_message = False
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

    # Timeouts

    def check_timeouts(self, now_s: float) -> None:
        """Time out a request received too slowly, or a connection idle for too long.

        The server calls this every `ConnectionLimits.sweep_interval_s` with the
        loop's clock, so that no request pays for a timer. A timeout counts from the
        first check that saw the connection in its current state: a request in
        progress, or idle with nothing pending.
        """
        if self._closing:
            return
        state = (self._request_count, self._in_message, len(self._pending))
        if state != self._watch_state:
            self._watch_state = state
            self._watch_since_s = now_s
            return

        waited_s = now_s - self._watch_since_s
        if self._in_message:
            if waited_s >= self._limits.read_timeout_s:
                logger.debug("request not received within %.1f s, sent 408", waited_s)
                self._in_head = False
                self._reject(REQUEST_TIMEOUT)
                self._flush()
                self._abort_if_stalled()
        elif (not self._pending or self._writing_paused) and (
            waited_s >= self._limits.idle_timeout_s
        ):
            logger.debug("connection idle for %.1f s, closing it", waited_s)
            self.close()
            self._abort_if_stalled()

    def _abort_if_stalled(self) -> None:
        """Abort rather than close when the client reads nothing, so no flush waits forever."""
        if self._writing_paused and self._transport is not None:
            self._transport.abort()

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

    def _count_line_in_progress(self, data: bytes) -> None:
        """Bound the unfinished head line that httptools buffers after reading `data`."""
        newline = data.rfind(b"\n")
        if newline < 0:
            self._line_bytes += len(data)
        else:
            self._line_bytes = len(data) - newline - 1
        # Until the first header line completes, the line in progress may be the
        # request line, which `_url` already contains in part.
        url_bytes = len(self._url) if self._head_bytes else 0
        if self._head_bytes + url_bytes + self._line_bytes > self._max_head_bytes:
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
