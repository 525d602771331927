"""HttpProtocol in process, with a recording transport: ordering, cancellation, cleanup."""

from __future__ import annotations

import asyncio
import gc
import warnings
from http import HTTPStatus
from typing import Any

import pytest

from targets.app.routes import Route, RouteTable
from targets.http.date import DateHeader
from targets.http.response import CONTENT_TYPE_TEXT, Response, make_head
from targets.servers.raw.protocol import MAX_QUEUED_REQUESTS, HttpProtocol

TEXT_HEAD = make_head(HTTPStatus.OK, CONTENT_TYPE_TEXT)


class RecordingTransport(asyncio.Transport):
    """Keep written bytes and the flow-control calls instead of sending anything."""

    def __init__(self) -> None:
        super().__init__()
        self.written = bytearray()
        self.write_calls = 0
        self.closed = False
        self.reading = True

    def write(self, data: Any) -> None:
        self.written += data
        self.write_calls += 1

    def writelines(self, list_of_data: Any) -> None:
        for data in list_of_data:
            self.written += data
        self.write_calls += 1

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        self.closed = True

    def abort(self) -> None:
        self.closed = True

    def pause_reading(self) -> None:
        self.reading = False

    def resume_reading(self) -> None:
        self.reading = True


class SlowEndpoints:
    """`/slow` waits for `release`; `/fast` responds at once."""

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.started = 0
        self.cancelled = 0

    def fast(self, query: bytes) -> Response:
        return TEXT_HEAD, b"fast"

    async def slow(self, query: bytes) -> Response:
        self.started += 1
        try:
            await self.release.wait()
        except asyncio.CancelledError:
            self.cancelled += 1
            raise
        return TEXT_HEAD, b"slow"

    def routes(self) -> RouteTable:
        get = frozenset({b"GET"})
        return RouteTable([Route(b"/fast", get, self.fast), Route(b"/slow", get, self.slow)])


def _request(path: str) -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: test\r\n\r\n".encode()


async def _wait_until(condition: Any, timeout_s: float = 2.0) -> None:
    async with asyncio.timeout(timeout_s):
        while not condition():
            await asyncio.sleep(0)


@pytest.fixture
def endpoints() -> SlowEndpoints:
    return SlowEndpoints()


@pytest.fixture
def connections() -> set[HttpProtocol]:
    return set()


@pytest.fixture
def transport() -> RecordingTransport:
    return RecordingTransport()


@pytest.fixture
async def protocol(
    endpoints: SlowEndpoints, connections: set[HttpProtocol], transport: RecordingTransport
) -> HttpProtocol:
    connection = HttpProtocol(endpoints.routes(), DateHeader(), connections)
    connection.connection_made(transport)
    return connection


async def test_pipelined_sync_responses_written_once(
    protocol: HttpProtocol, transport: RecordingTransport
) -> None:
    protocol.data_received(_request("/fast") * 5)
    assert transport.written.count(b"\r\n\r\nfast") == 5
    assert transport.write_calls == 1


async def test_fast_response_waits_behind_slow_one(
    protocol: HttpProtocol, transport: RecordingTransport, endpoints: SlowEndpoints
) -> None:
    protocol.data_received(_request("/fast") + _request("/slow") + _request("/fast"))
    await _wait_until(lambda: endpoints.started == 1)
    assert transport.written.count(b"HTTP/1.1") == 1

    endpoints.release.set()
    await _wait_until(lambda: transport.written.count(b"HTTP/1.1") == 3)

    bodies = [part[-4:] for part in bytes(transport.written).split(b"HTTP/1.1")[1:]]
    assert bodies == [b"fast", b"slow", b"fast"]


async def test_connection_lost_cancels_waiting_handler(
    protocol: HttpProtocol,
    endpoints: SlowEndpoints,
    connections: set[HttpProtocol],
) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        protocol.data_received(_request("/slow") + _request("/slow"))
        await _wait_until(lambda: endpoints.started == 1)
        assert protocol in connections

        protocol.connection_lost(None)
        await _wait_until(lambda: endpoints.cancelled == 1)
        gc.collect()

    assert protocol not in connections
    # The second handler never started, and it was closed rather than left unawaited.
    assert endpoints.started == 1
    assert not [warning for warning in caught if "never awaited" in str(warning.message)]


async def test_queue_limit_pauses_reading(
    protocol: HttpProtocol, transport: RecordingTransport, endpoints: SlowEndpoints
) -> None:
    protocol.data_received(_request("/slow") * MAX_QUEUED_REQUESTS)
    assert not transport.reading

    endpoints.release.set()
    await _wait_until(lambda: transport.reading)
    await _wait_until(lambda: transport.written.count(b"slow") == MAX_QUEUED_REQUESTS)


async def test_full_write_buffer_pauses_reading(
    protocol: HttpProtocol, transport: RecordingTransport
) -> None:
    protocol.pause_writing()
    assert not transport.reading
    protocol.resume_writing()
    assert transport.reading


async def test_handler_error_responds_500(
    connections: set[HttpProtocol], transport: RecordingTransport
) -> None:
    async def broken(query: bytes) -> Response:
        raise RuntimeError("storage exploded")

    routes = RouteTable([Route(b"/broken", frozenset({b"GET"}), broken)])
    protocol = HttpProtocol(routes, DateHeader(), connections)
    protocol.connection_made(transport)

    protocol.data_received(_request("/broken"))
    await _wait_until(lambda: b"HTTP/1.1" in transport.written)

    assert transport.written.startswith(b"HTTP/1.1 500 Internal Server Error\r\n")
    assert not transport.closed
