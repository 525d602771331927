"""Hostile and broken clients against real targets: bad requests, oversize, slow, too many.

Each test runs on the `raw` server and on the `asgi` variant under uvicorn and
granian, whose HTTP front ends are the libraries' own. Where a library does not
enforce a limit, the test is skipped with the reason, which
`targets.servers.asgi_hosts` also documents.
"""

from __future__ import annotations

import contextlib
import socket
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING

import httpx
import pytest

if TYPE_CHECKING:
    from tests.targets.conftest import LaunchTarget, TargetProcess

READ_TIMEOUT_S = 1.0
IDLE_TIMEOUT_S = 2.0
MAX_HEAD_BYTES = 8192
MAX_BODY_BYTES = 65536
# Timeouts fire up to one sweep (a quarter of the timeout) late; allow that and more.
TIMEOUT_SLACK_S = 1.5

LIMIT_OPTIONS = (
    "--read-timeout", str(READ_TIMEOUT_S),
    "--idle-timeout", str(IDLE_TIMEOUT_S),
    "--max-head-bytes", str(MAX_HEAD_BYTES),
    "--max-body-bytes", str(MAX_BODY_BYTES),
    "--max-connections", "400",
)  # fmt: skip

SERVER_KINDS = {
    "raw": ("--target", "raw"),
    "asgi-uvicorn": ("--target", "asgi", "--server", "uvicorn"),
    "asgi-granian": ("--target", "asgi", "--server", "granian"),
}

UVICORN_NO_HEAD_LIMIT = "uvicorn with httptools enforces no request head size limit"
UVICORN_NO_READ_TIMEOUT = "uvicorn has no timeout for a request head that arrives slowly"


@pytest.fixture(scope="module", params=sorted(SERVER_KINDS))
def limited_target(
    request: pytest.FixtureRequest,
    launch: LaunchTarget,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[str, TargetProcess]]:
    kind: str = request.param
    process = launch(tmp_path_factory.mktemp(kind), *SERVER_KINDS[kind], *LIMIT_OPTIONS)
    yield kind, process
    process.kill()


class Exchange:
    """What one raw connection received, and whether and when the server closed it."""

    def __init__(self, data: bytes, closed: bool, elapsed_s: float) -> None:
        self.data = data
        self.closed = closed
        self.elapsed_s = elapsed_s

    @property
    def status(self) -> int | None:
        """Status code of the first response, if one arrived."""
        if not self.data.startswith(b"HTTP/1."):
            return None
        return int(self.data.split(b" ", 2)[1])


def exchange(target: TargetProcess, data: bytes, wait_s: float = 5.0) -> Exchange:
    """Send `data` on a new connection and read until the server closes it or `wait_s` passes."""
    started_s = time.monotonic()
    received = bytearray()
    closed = False
    with socket.create_connection((target.host, target.port), timeout=wait_s) as sock:
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            if data:
                sock.sendall(data)
        deadline_s = started_s + wait_s
        while (remaining_s := deadline_s - time.monotonic()) > 0:
            sock.settimeout(remaining_s)
            try:
                chunk = sock.recv(65536)
            except TimeoutError:
                break
            except ConnectionResetError:
                closed = True
                break
            if not chunk:
                closed = True
                break
            received += chunk
    return Exchange(bytes(received), closed, time.monotonic() - started_s)


@pytest.mark.parametrize(
    "request_bytes",
    [
        pytest.param(b"NOT AN HTTP REQUEST\r\n\r\n", id="request-line"),
        pytest.param(b"GET /json HTTP/1.1\r\nHost 127.0.0.1\r\n\r\n", id="header-without-colon"),
        pytest.param(b"GET /json HTTP/1.1\r\nHost: a\r\nBad\x00Name: 1\r\n\r\n", id="nul-in-name"),
        pytest.param(
            b"POST /users HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nZZ\r\n\r\n",
            id="chunk-size",
        ),
        pytest.param(
            b"POST /users HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
            b"2\r\nabcd\r\n0\r\n\r\n",
            id="chunk-longer-than-size",
        ),
        pytest.param(
            b"POST /users HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 7\r\n\r\n",
            id="two-content-lengths",
        ),
    ],
)
def test_malformed_request_rejected_400(
    limited_target: tuple[str, TargetProcess], request_bytes: bytes
) -> None:
    _, target = limited_target

    result = exchange(target, request_bytes)

    assert result.status == 400
    assert result.closed


HEAD_LINE = b"GET /json HTTP/1.1\r\nHost: 127.0.0.1\r\n"


@pytest.mark.parametrize(
    "request_bytes",
    [
        pytest.param(
            HEAD_LINE + b"".join(b"X-F%d: %s\r\n" % (i, b"y" * 1000) for i in range(20)) + b"\r\n",
            id="many-headers",
        ),
        pytest.param(HEAD_LINE + b"X-Big: " + b"y" * 9000 + b"\r\n\r\n", id="one-read"),
        pytest.param(HEAD_LINE + b"X-Big: " + b"y" * 9000, id="unfinished-line"),
        pytest.param(b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: a\r\n\r\n", id="long-target"),
    ],
)
def test_oversized_head_rejected_431(
    limited_target: tuple[str, TargetProcess], request_bytes: bytes
) -> None:
    kind, target = limited_target
    if kind == "asgi-uvicorn":
        pytest.skip(UVICORN_NO_HEAD_LIMIT)

    result = exchange(target, request_bytes)

    assert result.status == 431
    assert result.closed


def test_head_within_limit_served(limited_target: tuple[str, TargetProcess]) -> None:
    _, target = limited_target
    headers = b"".join(b"X-F%d: %s\r\n" % (i, b"y" * 500) for i in range(10))

    result = exchange(target, HEAD_LINE + headers + b"Connection: close\r\n\r\n")

    assert result.status == 200


def test_announced_body_rejected_413_before_reading(
    limited_target: tuple[str, TargetProcess],
) -> None:
    _, target = limited_target
    head = (
        b"POST /users HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\n"
        b"Content-Length: 10000000\r\n\r\n"
    )

    # No body byte is ever sent, so a response proves the server did not wait for it.
    result = exchange(target, head, wait_s=3.0)

    assert result.status == 413
    assert result.elapsed_s < 3.0


def test_chunked_body_over_limit_rejected_413(limited_target: tuple[str, TargetProcess]) -> None:
    _, target = limited_target
    chunk = b"%x\r\n%s\r\n" % (32768, b"y" * 32768)
    request_bytes = (
        b"POST /users HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n" + chunk * 3
    )

    result = exchange(target, request_bytes, wait_s=3.0)

    assert result.status == 413


def test_slow_request_dropped_after_timeout(limited_target: tuple[str, TargetProcess]) -> None:
    kind, target = limited_target
    if kind == "asgi-uvicorn":
        pytest.skip(UVICORN_NO_READ_TIMEOUT)

    result = exchange(target, HEAD_LINE + b"X-Slow: 1\r\n", wait_s=READ_TIMEOUT_S + 5)

    assert result.closed
    assert result.elapsed_s < READ_TIMEOUT_S + TIMEOUT_SLACK_S
    assert result.status in (408, None)


def test_idle_connection_closed(limited_target: tuple[str, TargetProcess]) -> None:
    kind, target = limited_target
    request_bytes = HEAD_LINE + b"\r\n"

    # The first response comes at once; the close follows after the idle timeout.
    result = exchange(target, request_bytes, wait_s=IDLE_TIMEOUT_S + 5)

    assert result.status == 200
    assert result.closed
    limit_s = READ_TIMEOUT_S if kind == "asgi-granian" else IDLE_TIMEOUT_S
    assert result.elapsed_s < limit_s + TIMEOUT_SLACK_S


def test_healthz_fast_despite_slow_clients(limited_target: tuple[str, TargetProcess]) -> None:
    _, target = limited_target
    slow_clients: list[socket.socket] = []
    try:
        for index in range(200):
            sock = socket.create_connection((target.host, target.port), timeout=5)
            slow_clients.append(sock)
            sock.sendall(b"GET /json HTTP/1.1\r\nHost: a\r\nX-Slow-%d: " % index)

        latencies_s = []
        with httpx.Client(base_url=target.base_url, timeout=5) as client:
            for _ in range(10):
                started_s = time.perf_counter()
                response = client.get("/healthz")
                latencies_s.append(time.perf_counter() - started_s)
                assert response.status_code == 200
    finally:
        for sock in slow_clients:
            sock.close()

    assert max(latencies_s) < 0.5, latencies_s


@pytest.fixture(scope="module", params=["raw", "asgi-uvicorn"])
def capped_target(
    request: pytest.FixtureRequest,
    launch: LaunchTarget,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[str, TargetProcess]]:
    kind: str = request.param
    work_dir = tmp_path_factory.mktemp(f"capped-{kind}")
    process = launch(work_dir, *SERVER_KINDS[kind], "--max-connections", "5")
    yield kind, process
    process.kill()


def test_connections_past_cap_get_503(capped_target: tuple[str, TargetProcess]) -> None:
    kind, target = capped_target
    # uvicorn counts the connection that sends the request too, so one fewer fits.
    held = 5 if kind == "raw" else 4
    with contextlib.ExitStack() as stack:
        clients = [stack.enter_context(httpx.Client(base_url=target.base_url)) for _ in range(held)]
        for client in clients:
            assert client.get("/healthz").status_code == 200

        excess = [exchange(target, HEAD_LINE + b"\r\n", wait_s=3.0) for _ in range(2)]

        assert [result.status for result in excess] == [503, 503]
    # Once the others closed, new connections are served again.
    deadline_s = time.monotonic() + 5
    status = None
    while time.monotonic() < deadline_s and status != 200:
        status = exchange(target, HEAD_LINE + b"Connection: close\r\n\r\n").status
    assert status == 200
