"""Response heads computed once, and the framing that adds the per-response headers.

A handler returns a `Response`: a precomputed `ResponseHead` and the body bytes.
The server adds `Date`, `Content-Length` and, when it closes or keeps an HTTP/1.0
connection, `Connection`, then writes the whole response in one call.
"""

from __future__ import annotations

import dataclasses
from http import HTTPStatus

SERVER_NAME = b"perfgate"

CONNECTION_CLOSE = b"Connection: close\r\n"
CONNECTION_KEEP_ALIVE = b"Connection: keep-alive\r\n"

CONTENT_TYPE_JSON = b"application/json"
CONTENT_TYPE_TEXT = b"text/plain"
CONTENT_TYPE_HTML = b"text/html; charset=utf-8"


@dataclasses.dataclass(frozen=True, slots=True)
class ResponseHead:
    """Status and fixed headers of one kind of response.

    Attributes:
        status: the response status.
        headers: the fixed headers as `(name, value)` pairs, `Server` first.
        raw: status line and fixed headers as HTTP/1.1 wire bytes, each line ending
            in CRLF and without the blank line that ends the head.
    """

    status: HTTPStatus
    headers: tuple[tuple[bytes, bytes], ...]
    raw: bytes


Response = tuple[ResponseHead, bytes]
"""A response head and its body."""


def make_head(
    status: HTTPStatus,
    content_type: bytes,
    extra_headers: tuple[tuple[bytes, bytes], ...] = (),
) -> ResponseHead:
    """Build a response head with `Server`, `Content-Type` and any extra headers."""
    headers = ((b"Server", SERVER_NAME), (b"Content-Type", content_type), *extra_headers)
    status_line = b"HTTP/1.1 %d %s\r\n" % (status.value, status.phrase.encode("ascii"))
    header_lines = b"".join(name + b": " + value + b"\r\n" for name, value in headers)
    return ResponseHead(status=status, headers=headers, raw=status_line + header_lines)


def encode_response(response: Response, date_line: bytes, connection_line: bytes) -> bytes:
    """Frame `response` as HTTP/1.1 wire bytes.

    Args:
        response: the head and body a handler returned.
        date_line: the current `Date` line from `targets.http.date.DateHeader`.
        connection_line: `b""`, `CONNECTION_CLOSE` or `CONNECTION_KEEP_ALIVE`.
    """
    head, body = response
    return b"%b%bContent-Length: %d\r\n%b\r\n%b" % (
        head.raw,
        date_line,
        len(body),
        connection_line,
        body,
    )


def encode_head_response(response: Response, date_line: bytes, connection_line: bytes) -> bytes:
    """Frame `response` for a HEAD request: the same head, and no body.

    `Content-Length` still gives the size the body would have had, which HTTP allows
    for HEAD, so clients frame the next response on the connection correctly.
    """
    head, body = response
    return b"%b%bContent-Length: %d\r\n%b\r\n" % (head.raw, date_line, len(body), connection_line)


def make_status_response(status: HTTPStatus) -> Response:
    """Build a plain-text response whose body is the status phrase, for errors."""
    return make_head(status, CONTENT_TYPE_TEXT), status.phrase.encode("ascii")


BAD_REQUEST = make_status_response(HTTPStatus.BAD_REQUEST)
NOT_FOUND = make_status_response(HTTPStatus.NOT_FOUND)
CONTENT_TOO_LARGE = make_status_response(HTTPStatus.REQUEST_ENTITY_TOO_LARGE)
HEADERS_TOO_LARGE = make_status_response(HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE)
INTERNAL_SERVER_ERROR = make_status_response(HTTPStatus.INTERNAL_SERVER_ERROR)
SERVICE_UNAVAILABLE = make_status_response(HTTPStatus.SERVICE_UNAVAILABLE)
REQUEST_TIMEOUT = make_status_response(HTTPStatus.REQUEST_TIMEOUT)
TOO_MANY_CONNECTIONS: Response = (
    make_head(HTTPStatus.SERVICE_UNAVAILABLE, CONTENT_TYPE_TEXT, ((b"Retry-After", b"1"),)),
    b"Too many open connections",
)
"""503 for a connection opened past the server's connection limit."""
