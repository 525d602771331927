"""A TCP proxy on loopback that a test can pause or cut, to fake a slow or dead server.

The proxy runs its own event loop in a thread, so tests drive it from sync or async
code alike. `pause` stops moving bytes in both directions and leaves new connections
waiting, as a stalled server or network does. `cut` closes every connection and
refuses new ones, as a dead server does. `restore` returns to normal forwarding.
The real server behind the proxy is never touched.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import threading
from collections.abc import Callable, Iterator

CHUNK_BYTES = 65536
START_TIMEOUT_S = 10.0


class ProxyMode(enum.Enum):
    """How the proxy treats traffic."""

    FORWARD = "forward"
    PAUSED = "paused"
    CUT = "cut"


class TcpProxy:
    """Forward 127.0.0.1:`port` to `upstream_host`:`upstream_port`."""

    def __init__(self, upstream_host: str, upstream_port: int) -> None:
        self._upstream = (upstream_host, upstream_port)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.Server | None = None
        self._flowing: asyncio.Event | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self.mode = ProxyMode.FORWARD
        self.port = 0

    def start(self) -> int:
        """Start listening on a free loopback port and return it."""
        self._thread.start()
        future = asyncio.run_coroutine_threadsafe(self._listen(), self._loop)
        self.port = future.result(START_TIMEOUT_S)
        return self.port

    def pause(self) -> None:
        """Stop forwarding bytes; connections stay open and new ones wait."""
        self._call(self._set_mode, ProxyMode.PAUSED)

    def cut(self) -> None:
        """Close every connection and refuse new ones."""
        self._call(self._set_mode, ProxyMode.CUT)

    def restore(self) -> None:
        """Forward again."""
        self._call(self._set_mode, ProxyMode.FORWARD)

    def stop(self) -> None:
        """Close every connection and the listener, then stop the thread."""
        if not self._thread.is_alive():
            return
        self._call(self._close)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(START_TIMEOUT_S)
        self._loop.close()

    def _call(self, function: Callable[..., object], *args: object) -> None:
        async def run() -> None:
            result = function(*args)
            if asyncio.iscoroutine(result):
                await result

        asyncio.run_coroutine_threadsafe(run(), self._loop).result(START_TIMEOUT_S)

    async def _listen(self) -> int:
        self._flowing = asyncio.Event()
        self._flowing.set()
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        return int(self._server.sockets[0].getsockname()[1])

    def _set_mode(self, mode: ProxyMode) -> None:
        assert self._flowing is not None
        self.mode = mode
        if mode is ProxyMode.FORWARD:
            self._flowing.set()
        else:
            self._flowing.clear()
        if mode is ProxyMode.CUT:
            for writer in list(self._writers):
                writer.transport.abort()

    async def _close(self) -> None:
        for writer in list(self._writers):
            writer.transport.abort()
        if self._server is not None:
            self._server.close()
        current = asyncio.current_task()
        pending = [task for task in asyncio.all_tasks() if task is not current]
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        assert self._flowing is not None
        if self.mode is ProxyMode.CUT:
            writer.transport.abort()
            return
        self._writers.add(writer)
        try:
            await self._flowing.wait()
            upstream_reader, upstream_writer = await asyncio.open_connection(*self._upstream)
        except OSError:
            self._writers.discard(writer)
            writer.transport.abort()
            return
        self._writers.add(upstream_writer)
        await asyncio.gather(
            self._pump(reader, upstream_writer),
            self._pump(upstream_reader, writer),
            return_exceptions=True,
        )
        for end in (writer, upstream_writer):
            self._writers.discard(end)
            end.transport.abort()

    async def _pump(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        assert self._flowing is not None
        while True:
            data = await reader.read(CHUNK_BYTES)
            await self._flowing.wait()
            if not data or writer.transport.is_closing():
                writer.transport.abort()
                return
            writer.write(data)
            await writer.drain()


@contextlib.contextmanager
def running_proxy(upstream_host: str, upstream_port: int) -> Iterator[TcpProxy]:
    """Run a `TcpProxy` to the upstream for the duration of the block."""
    proxy = TcpProxy(upstream_host, upstream_port)
    proxy.start()
    try:
        yield proxy
    finally:
        proxy.stop()
