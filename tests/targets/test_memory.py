"""A target's memory stays flat under a bounded loop of good, bad and abandoned requests."""

from __future__ import annotations

import contextlib
import socket
import time
from typing import TYPE_CHECKING

import psutil
import pytest

if TYPE_CHECKING:
    from tests.targets.conftest import StartTarget, TargetProcess

ROUNDS = 8
WARM_UP_ROUNDS = 2
CONNECTIONS_PER_ROUND = 400
MAX_GROWTH_BYTES = 4 << 20
"""Growth allowed after warm-up: allocator noise, below 2 KiB leaked per connection."""

LOOP_TIME_LIMIT_S = 60.0

GOOD = b"GET /db HTTP/1.1\r\nHost: a\r\n\r\n" * 5 + b"GET /json HTTP/1.1\r\nHost: a\r\n\r\n"
ABUSES = [
    b"NOT HTTP\r\n\r\n",
    b"GET /json HTTP/1.1\r\nHost: a\r\nX-Big: " + b"y" * 70_000 + b"\r\n\r\n",
    b"POST /users HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999\r\n\r\n",
    b"POST /users HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\n"
    b'Content-Length: 25\r\n\r\n{"name": 1, "region": 2}',
    b"GET /json HTTP/1.1\r\nHost: a\r\nX-Half: ",
]


def _send_round(target: TargetProcess) -> None:
    """Open `CONNECTIONS_PER_ROUND` connections, each good or abusive, and read what comes back."""
    for index in range(CONNECTIONS_PER_ROUND):
        data = GOOD if index % 2 == 0 else ABUSES[index % len(ABUSES)]
        with socket.create_connection((target.host, target.port), timeout=5) as sock:
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                sock.sendall(data)
                # Half-sent requests are abandoned here: the client closes mid-head.
                sock.shutdown(socket.SHUT_WR)
            with contextlib.suppress(ConnectionResetError, TimeoutError):
                while sock.recv(65536):
                    pass


@pytest.mark.parametrize(
    "options",
    [pytest.param(("--target", "raw"), id="raw"),
     pytest.param(("--target", "asgi", "--server", "uvicorn"), id="asgi-uvicorn")],
)  # fmt: skip
def test_rss_flat_over_bounded_loop(start_target: StartTarget, options: tuple[str, ...]) -> None:
    target = start_target("memory", *options)
    process = psutil.Process(target.process.pid)
    started_s = time.monotonic()

    rss_bytes: list[int] = []
    for _ in range(ROUNDS):
        _send_round(target)
        rss_bytes.append(process.memory_info().rss)
        assert time.monotonic() - started_s < LOOP_TIME_LIMIT_S, "the loop took too long"

    growth_bytes = rss_bytes[-1] - rss_bytes[WARM_UP_ROUNDS - 1]
    assert growth_bytes < MAX_GROWTH_BYTES, [value >> 10 for value in rss_bytes]
