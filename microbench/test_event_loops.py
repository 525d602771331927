"""Event loops: asyncio's default loop against uvloop.

Two workloads: task switching (tasks that yield to the loop with `asyncio.sleep(0)`)
and an echo round trip over a TCP connection on 127.0.0.1, where a client writes a
small message and waits for the server to send it back. Each round runs a fixed
number of operations inside one `run_until_complete` call, so the loop's start-up is
outside the timing. pytest-benchmark reports the time of one whole round.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Iterator
from typing import cast

import pytest
import uvloop
from pytest_benchmark.fixture import BenchmarkFixture

TASKS = 10
SWITCHES_PER_TASK = 100
ROUND_TRIPS = 100
MESSAGE = b"x" * 64
TIMEOUT_S = 10.0

LOOP_FACTORIES: dict[str, Callable[[], asyncio.AbstractEventLoop]] = {
    "asyncio": asyncio.new_event_loop,
    "uvloop": uvloop.new_event_loop,
}


@pytest.fixture(params=sorted(LOOP_FACTORIES))
def loop(request: pytest.FixtureRequest) -> Iterator[asyncio.AbstractEventLoop]:
    """An event loop of the parametrized kind, closed after the test."""
    name: str = request.param
    event_loop = LOOP_FACTORIES[name]()
    yield event_loop
    event_loop.run_until_complete(event_loop.shutdown_asyncgens())
    event_loop.close()


class EchoProtocol(asyncio.Protocol):
    """Server side: write every received chunk back to the client."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """Keep the transport to write to."""
        # uvloop's TCPTransport has the Transport methods without subclassing it.
        self.transport = cast(asyncio.WriteTransport, transport)

    def data_received(self, data: bytes) -> None:
        """Send the chunk back unchanged."""
        self.transport.write(data)


async def _switch(count: int) -> None:
    for _ in range(count):
        await asyncio.sleep(0)


async def _switch_tasks() -> None:
    async with asyncio.timeout(TIMEOUT_S), asyncio.TaskGroup() as group:
        for _ in range(TASKS):
            group.create_task(_switch(SWITCHES_PER_TASK))


def test_task_switching(benchmark: BenchmarkFixture, loop: asyncio.AbstractEventLoop) -> None:
    """Run 10 tasks that each yield to the loop 100 times (1,000 switches a round)."""
    benchmark(lambda: loop.run_until_complete(_switch_tasks()))
    benchmark.extra_info["switches_per_round"] = TASKS * SWITCHES_PER_TASK


async def _round_trips(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    async with asyncio.timeout(TIMEOUT_S):
        for _ in range(ROUND_TRIPS):
            writer.write(MESSAGE)
            await reader.readexactly(len(MESSAGE))


@contextlib.contextmanager
def _echo_connection(
    loop: asyncio.AbstractEventLoop,
) -> Iterator[tuple[asyncio.StreamReader, asyncio.StreamWriter]]:
    """Start an echo server on 127.0.0.1 (a free port) and connect one client to it."""
    server = loop.run_until_complete(
        asyncio.wait_for(loop.create_server(EchoProtocol, "127.0.0.1", 0), TIMEOUT_S)
    )
    try:
        port = server.sockets[0].getsockname()[1]
        reader, writer = loop.run_until_complete(
            asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), TIMEOUT_S)
        )
        try:
            yield reader, writer
        finally:
            writer.close()
            loop.run_until_complete(asyncio.wait_for(writer.wait_closed(), TIMEOUT_S))
    finally:
        server.close()
        loop.run_until_complete(asyncio.wait_for(server.wait_closed(), TIMEOUT_S))


def test_echo_round_trip(benchmark: BenchmarkFixture, loop: asyncio.AbstractEventLoop) -> None:
    """Send 64 bytes and read them back, 100 times a round, over loopback TCP."""
    with _echo_connection(loop) as (reader, writer):
        benchmark(lambda: loop.run_until_complete(_round_trips(reader, writer)))
    benchmark.extra_info["round_trips_per_round"] = ROUND_TRIPS
