"""Byte-level fuzzing of the raw server's HTTP front end, in process and over a socket.

Hypothesis mutates valid requests (and sends plain random bytes), cut into random
reads. Whatever arrives, the server must not raise, must write only well-formed
HTTP responses with an expected status, and must keep serving other connections.

Examples per test: 200 in process and 40 over a socket by default, which keeps CI
brief. Set `PERFGATE_FUZZ_EXAMPLES=N` for a longer run of N examples per test, such
as 20000: about two minutes on 2 cores, estimated from 3,000 examples in 18 s.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import re
import socket
from typing import TYPE_CHECKING, Any

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from targets.app import build_route_table
from targets.app.routes import RouteTable
from targets.codecs import get_codec
from targets.http.date import DateHeader
from targets.http.limits import ConnectionLimits
from targets.servers.raw.protocol import HttpProtocol
from targets.storage.memory import MemoryStorage

if TYPE_CHECKING:
    from tests.targets.conftest import StartTarget

FUZZ_EXAMPLES = int(os.environ.get("PERFGATE_FUZZ_EXAMPLES", "0"))
IN_PROCESS_EXAMPLES = FUZZ_EXAMPLES or 200
SOCKET_EXAMPLES = FUZZ_EXAMPLES or 40

# Statuses the front end may send for any input; 500 would mean a handler crashed.
EXPECTED_STATUSES = {200, 201, 400, 404, 405, 408, 413, 422, 431}

VALID_REQUESTS = [
    b"GET /json HTTP/1.1\r\nHost: a\r\n\r\n",
    b"GET /queries?queries=20 HTTP/1.1\r\nHost: a\r\n\r\n",
    b"GET /plaintext HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
    b"HEAD /db HTTP/1.1\r\nHost: a\r\n\r\n",
    b"GET /fortunes HTTP/1.1\r\nHost: a\r\nAccept: text/html\r\n\r\n",
    b"POST /json HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\n\r\nabcd",
    b"POST /json HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nabcd\r\n0\r\n\r\n",
    b"GET http://a/updates?queries=3 HTTP/1.1\r\nHost: a\r\n\r\n",
]


@st.composite
def mutated_requests(draw: st.DrawFn) -> bytes:
    """One to four valid requests, pipelined, with a few bytes flipped, inserted or cut."""
    data = bytearray(
        b"".join(draw(st.lists(st.sampled_from(VALID_REQUESTS), min_size=1, max_size=4)))
    )
    for _ in range(draw(st.integers(0, 4))):
        position = draw(st.integers(0, len(data)))
        action = draw(st.sampled_from(["flip", "insert", "cut"]))
        if action == "flip" and position < len(data):
            data[position] = draw(st.integers(0, 255))
        elif action == "insert":
            data[position:position] = draw(st.binary(min_size=1, max_size=8))
        else:
            del data[position : position + draw(st.integers(1, 8))]
    return bytes(data)


FUZZ_INPUTS = mutated_requests() | st.binary(max_size=300)


def split_into_reads(data: bytes, cuts: list[int]) -> list[bytes]:
    """Cut `data` at the given offsets, as a socket might deliver it."""
    offsets = sorted({cut % (len(data) + 1) for cut in cuts} | {0, len(data)})
    return [data[start:end] for start, end in itertools.pairwise(offsets) if end > start]


class RecordingTransport(asyncio.Transport):
    """Keep written bytes instead of sending them."""

    def __init__(self) -> None:
        super().__init__()
        self.written = bytearray()
        self.closed = False

    def write(self, data: Any) -> None:
        self.written += data

    def writelines(self, list_of_data: Any) -> None:
        for data in list_of_data:
            self.written += data

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        self.closed = True

    def abort(self) -> None:
        self.closed = True

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


# A response head's status line. Responses to HEAD carry Content-Length without a
# body, which a response parser cannot know, so statuses are found by their lines.
STATUS_LINE = re.compile(rb"HTTP/1\.1 (\d{3}) [^\r\n]*\r\n")


def response_statuses(written: bytes) -> list[int]:
    """Return the status of every response in `written`, checking that it starts with one."""
    assert not written or written.startswith(b"HTTP/1.1 "), written[:100]
    return [int(status) for status in STATUS_LINE.findall(written)]


async def feed(routes: RouteTable, reads: list[bytes]) -> bytes:
    """Feed `reads` to a new connection, let queued handlers finish, and return what it wrote."""
    transport = RecordingTransport()
    protocol = HttpProtocol(routes, DateHeader(), set(), ConnectionLimits(max_head_bytes=512))
    protocol.connection_made(transport)
    for data in reads:
        protocol.data_received(data)
    for _ in range(50):
        await asyncio.sleep(0)
    protocol.connection_lost(None)
    await asyncio.sleep(0)
    return bytes(transport.written)


def test_protocol_survives_any_bytes() -> None:
    loop = asyncio.new_event_loop()
    routes = build_route_table(get_codec("orjson"), MemoryStorage())

    @settings(max_examples=IN_PROCESS_EXAMPLES, deadline=None, derandomize=not FUZZ_EXAMPLES)
    @given(FUZZ_INPUTS, st.lists(st.integers(0, 10_000), max_size=6))
    def check(data: bytes, cuts: list[int]) -> None:
        written = loop.run_until_complete(feed(routes, split_into_reads(data, cuts)))

        assert set(response_statuses(written)) <= EXPECTED_STATUSES, (data, written[:300])

    try:
        check()
    finally:
        loop.close()


def test_live_server_survives_any_bytes(start_target: StartTarget) -> None:
    target = start_target("fuzz", "--max-head-bytes", "512")

    @settings(
        max_examples=SOCKET_EXAMPLES,
        deadline=None,
        derandomize=not FUZZ_EXAMPLES,
        suppress_health_check=[HealthCheck.function_scoped_fixture],
    )
    @given(FUZZ_INPUTS)
    def check(data: bytes) -> None:
        with socket.create_connection((target.host, target.port), timeout=5) as sock:
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                sock.sendall(data)
                # End of input: the server responds to what it has, then closes.
                sock.shutdown(socket.SHUT_WR)
            received = bytearray()
            with contextlib.suppress(ConnectionResetError):
                while chunk := sock.recv(65536):
                    received += chunk

        statuses = response_statuses(bytes(received))
        assert set(statuses) <= EXPECTED_STATUSES, (data, bytes(received[:300]))

    check()

    assert target.process.poll() is None
    assert httpx.get(f"{target.base_url}/healthz", timeout=5).status_code == 200
    assert "Traceback" not in target.log_text()
