"""HTTP/1.1 request parsing: httptools (llhttp, in C) against h11 (pure Python).

Both parse the same bytes: a TechEmpower-style GET with browser headers, and a POST
with a 256-byte JSON body. Each call builds a fresh parser, as a server does for a
new connection, and reads the request to its end.
"""

from __future__ import annotations

from collections.abc import Callable

import h11
import httptools
import pytest
from pytest_benchmark.fixture import BenchmarkFixture

GET_REQUEST = (
    b"GET /queries?queries=20 HTTP/1.1\r\n"
    b"Host: 127.0.0.1:8080\r\n"
    b"User-Agent: Mozilla/5.0 (X11; Linux x86_64) Gecko/20100101 Firefox/128.0\r\n"
    b"Accept: application/json,text/html;q=0.9,*/*;q=0.8\r\n"
    b"Accept-Language: en-US,en;q=0.5\r\n"
    b"Accept-Encoding: gzip, deflate\r\n"
    b"Connection: keep-alive\r\n"
    b"\r\n"
)
BODY = b'{"id": 4174, "randomNumber": 331, "padding": "' + b"p" * 207 + b'"}'
POST_REQUEST = (
    b"POST /updates HTTP/1.1\r\n"
    b"Host: 127.0.0.1:8080\r\n"
    b"Content-Type: application/json\r\n"
    b"Content-Length: " + str(len(BODY)).encode() + b"\r\n"
    b"Connection: keep-alive\r\n"
    b"\r\n" + BODY
)
REQUESTS = {"get": GET_REQUEST, "post": POST_REQUEST}


class _Request:
    """httptools callbacks that collect what a handler needs: URL, headers and body."""

    def __init__(self) -> None:
        self.url = b""
        self.headers: list[tuple[bytes, bytes]] = []
        self.body = b""
        self.complete = False

    def on_url(self, url: bytes) -> None:
        self.url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.append((name, value))

    def on_body(self, body: bytes) -> None:
        self.body += body

    def on_message_complete(self) -> None:
        self.complete = True


def parse_httptools(payload: bytes) -> int:
    """Parse one request with httptools and return its header count."""
    request = _Request()
    parser = httptools.HttpRequestParser(request)
    parser.feed_data(payload)
    assert request.complete
    return len(request.headers)


def parse_h11(payload: bytes) -> int:
    """Parse one request with h11 and return its header count."""
    connection = h11.Connection(h11.SERVER)
    connection.receive_data(payload)
    event = connection.next_event()
    assert isinstance(event, h11.Request)
    while not isinstance(connection.next_event(), h11.EndOfMessage | h11.NEED_DATA):
        pass
    return len(event.headers)


PARSERS: dict[str, Callable[[bytes], int]] = {"h11": parse_h11, "httptools": parse_httptools}


@pytest.mark.parametrize("request_kind", sorted(REQUESTS))
@pytest.mark.parametrize("parser", sorted(PARSERS))
def test_parse_request(benchmark: BenchmarkFixture, parser: str, request_kind: str) -> None:
    """Parse one whole request, from the first byte to the end of its body."""
    payload = REQUESTS[request_kind]
    headers = benchmark(PARSERS[parser], payload)
    assert headers == payload.split(b"\r\n\r\n")[0].count(b"\r\n")
