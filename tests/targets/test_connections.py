"""Connection handling of a real `perfgate serve` process: keep-alive, pipelining, limits."""

from __future__ import annotations

import contextlib
import json
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tests.targets.conftest import RawClientFactory, TargetProcess

# How long a test waits to see that the server keeps a connection open.
STAYS_OPEN_S = 0.3


def request_bytes(path: str, *headers: str, method: str = "GET", version: str = "1.1") -> bytes:
    """Build a request head for `path` with a Host header and the given extra header lines."""
    lines = [f"{method} {path} HTTP/{version}", "Host: 127.0.0.1", *headers, "", ""]
    return "\r\n".join(lines).encode("latin-1")


def test_pipelined_responses_in_request_order(
    target: TargetProcess, raw_client: RawClientFactory
) -> None:
    paths = ["/db", "/json", "/plaintext", "/queries?queries=3", "/fortunes", "/nope", "/json"]
    connection = raw_client(target)

    connection.send(b"".join(request_bytes(path) for path in paths))
    responses = connection.read_responses(len(paths))

    assert [response.status for response in responses] == [200, 200, 200, 200, 200, 404, 200]
    assert [response.header("content-type") for response in responses[:5]] == [
        "application/json",
        "application/json",
        "text/plain",
        "application/json",
        "text/html; charset=utf-8",
    ]
    assert list(json.loads(responses[0].body)) == ["id", "randomNumber"]
    assert len(json.loads(responses[3].body)) == 3
    assert responses[6].body == b'{"message":"Hello, World!"}'
    assert not connection.is_closed_by_server(STAYS_OPEN_S)


def test_pipelined_burst_fully_served(target: TargetProcess, raw_client: RawClientFactory) -> None:
    connection = raw_client(target)

    connection.send(request_bytes("/plaintext") * 256)
    responses = connection.read_responses(256)

    assert len(responses) == 256
    assert {response.body for response in responses} == {b"Hello, World!"}


def test_keep_alive_serves_sequential_requests(
    target: TargetProcess, raw_client: RawClientFactory
) -> None:
    connection = raw_client(target)

    for path in ("/json", "/db", "/plaintext"):
        connection.send(request_bytes(path))
        (response,) = connection.read_responses(1)
        assert response.status == 200
        assert response.header("connection") is None

    assert not connection.is_closed_by_server(STAYS_OPEN_S)


def test_connection_close_request_closes(
    target: TargetProcess, raw_client: RawClientFactory
) -> None:
    connection = raw_client(target)

    connection.send(request_bytes("/json", "Connection: close"))
    (response,) = connection.read_responses(1)

    assert response.status == 200
    assert response.header("connection") == "close"
    assert connection.is_closed_by_server()


def test_requests_after_connection_close_ignored(
    target: TargetProcess, raw_client: RawClientFactory
) -> None:
    connection = raw_client(target)

    connection.send(request_bytes("/db", "Connection: close") + request_bytes("/json"))

    assert connection.is_closed_by_server()
    assert [response.status for response in connection.responses] == [200]


def test_http10_without_keep_alive_closes(
    target: TargetProcess, raw_client: RawClientFactory
) -> None:
    connection = raw_client(target)

    connection.send(request_bytes("/plaintext", version="1.0"))
    (response,) = connection.read_responses(1)

    assert response.status == 200
    assert response.body == b"Hello, World!"
    assert connection.is_closed_by_server()


def test_http10_keep_alive_stays_open(target: TargetProcess, raw_client: RawClientFactory) -> None:
    connection = raw_client(target)

    for _ in range(2):
        connection.send(request_bytes("/json", "Connection: keep-alive", version="1.0"))
        (response,) = connection.read_responses(1)
        assert response.status == 200
        assert response.header("connection") == "keep-alive"

    assert not connection.is_closed_by_server(STAYS_OPEN_S)


def test_malformed_request_gets_400_and_close(
    target: TargetProcess, raw_client: RawClientFactory
) -> None:
    connection = raw_client(target)

    connection.send(b"NOT AN HTTP REQUEST\r\n\r\n")
    (response,) = connection.read_responses(1)

    assert response.status == 400
    assert response.header("connection") == "close"
    assert connection.is_closed_by_server()


def test_malformed_request_after_valid_ones(
    target: TargetProcess, raw_client: RawClientFactory
) -> None:
    connection = raw_client(target)

    connection.send(request_bytes("/db") + request_bytes("/json") + b"GET /json HTTP/9\x00\r\n\r\n")
    responses = connection.read_responses(3)

    assert [response.status for response in responses] == [200, 200, 400]
    assert connection.is_closed_by_server()


def test_oversized_body_gets_413(target: TargetProcess, raw_client: RawClientFactory) -> None:
    body_bytes = 2 << 20
    connection = raw_client(target)

    connection.send(request_bytes("/json", f"Content-Length: {body_bytes}", method="POST"))
    # The server may close before the whole body is sent, which resets the connection.
    with contextlib.suppress(BrokenPipeError, ConnectionResetError):
        for _ in range(body_bytes // 65536):
            connection.send(b"x" * 65536)
    (response,) = connection.read_responses(1)

    assert response.status == 413
    assert connection.is_closed_by_server()


def test_oversized_head_gets_431(target: TargetProcess, raw_client: RawClientFactory) -> None:
    # 1 MiB of headers, far past the 64 KiB limit.
    headers = [f"X-Filler-{index}: {'y' * 1000}" for index in range(1024)]
    connection = raw_client(target)

    with contextlib.suppress(BrokenPipeError, ConnectionResetError):
        connection.send(request_bytes("/json", *headers))
    (response,) = connection.read_responses(1)

    assert response.status == 431
    assert connection.is_closed_by_server()


def test_absolute_form_target_routed_by_path(
    target: TargetProcess, raw_client: RawClientFactory
) -> None:
    connection = raw_client(target)

    connection.send(request_bytes(f"http://127.0.0.1:{target.port}/plaintext?x=1"))
    (response,) = connection.read_responses(1)

    assert response.status == 200
    assert response.body == b"Hello, World!"
