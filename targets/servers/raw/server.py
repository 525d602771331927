"""The `raw` server's listener: binds, tracks connections and stops in clear steps."""

from __future__ import annotations

import asyncio
import logging

from targets.errors import TargetError
from targets.http.date import DateHeader
from targets.servers.base import ServerSettings, ServerState
from targets.servers.raw.protocol import HttpProtocol

logger = logging.getLogger(__name__)

LISTEN_BACKLOG = 1024
CLOSE_TIMEOUT_S = 5.0
"""How long `stop` waits for closed connections to finish flushing before aborting them."""


class RawServer:
    """Serve a route table over HTTP/1.1 with `HttpProtocol`, on the running loop."""

    def __init__(self, settings: ServerSettings) -> None:
        """Prepare to serve `settings.routes` on its address; port 0 lets the kernel pick one."""
        self._routes = settings.routes
        self._host = settings.host
        self._port = settings.port
        self._limits = settings.limits
        self._reuse_port = settings.reuse_port
        self._date = DateHeader()
        self._connections: set[HttpProtocol] = set()
        self._server: asyncio.Server | None = None
        self._sweep_timer: asyncio.TimerHandle | None = None
        self._state = ServerState.CREATED

    @property
    def state(self) -> ServerState:
        """The current lifecycle state."""
        return self._state

    @property
    def connection_count(self) -> int:
        """Number of open connections."""
        return len(self._connections)

    async def start(self) -> tuple[str, int]:
        """Bind with SO_REUSEADDR, start accepting and return the bound host and port.

        With `reuse_port` set, the socket also gets SO_REUSEPORT, and the kernel
        spreads new connections over every process listening on the port.

        Raises:
            TargetError: the server is not in the `CREATED` state.
            OSError: the address cannot be bound.
        """
        if self._state is not ServerState.CREATED:
            raise TargetError(f"cannot start a server in state {self._state.value!r}")

        loop = asyncio.get_running_loop()
        self._date.start(loop)
        try:
            self._server = await loop.create_server(
                self._create_protocol,
                self._host,
                self._port,
                reuse_address=True,
                reuse_port=self._reuse_port or None,
                backlog=LISTEN_BACKLOG,
            )
        except BaseException:
            self._date.stop()
            raise

        self._state = ServerState.SERVING
        self._schedule_sweep()
        sockname = self._server.sockets[0].getsockname()
        return str(sockname[0]), int(sockname[1])

    async def stop(self) -> None:
        """Stop accepting, close every connection and wait, bounded, until they are closed.

        Does nothing once stopped.

        Raises:
            TargetError: the server was never started, or is stopping already.
        """
        if self._state is ServerState.STOPPED:
            return
        if self._state is not ServerState.SERVING or self._server is None:
            raise TargetError(f"cannot stop a server in state {self._state.value!r}")
        self._state = ServerState.STOPPING

        # 1. Stop accepting: the listening sockets close, and new connections are refused.
        self._server.close()
        if self._sweep_timer is not None:
            self._sweep_timer.cancel()

        # 2. Close every connection. Handlers still waiting on storage are cancelled,
        #    and each transport flushes what was written before it closes.
        for protocol in list(self._connections):
            protocol.close()

        # 3. Wait until every transport has reported its connection lost.
        await self._wait_for_connections_closed()
        await self._server.wait_closed()

        self._date.stop()
        self._state = ServerState.STOPPED

    def _create_protocol(self) -> HttpProtocol:
        return HttpProtocol(self._routes, self._date, self._connections, self._limits)

    def _schedule_sweep(self) -> None:
        loop = asyncio.get_running_loop()
        self._sweep_timer = loop.call_later(self._limits.sweep_interval_s, self._sweep, loop)

    def _sweep(self, loop: asyncio.AbstractEventLoop) -> None:
        """Check every connection for timeouts, then schedule the next sweep."""
        if self._state is not ServerState.SERVING:
            return
        now_s = loop.time()
        for protocol in list(self._connections):
            protocol.check_timeouts(now_s)
        self._sweep_timer = loop.call_later(self._limits.sweep_interval_s, self._sweep, loop)

    async def _wait_for_connections_closed(self) -> None:
        loop = asyncio.get_running_loop()
        deadline_s = loop.time() + CLOSE_TIMEOUT_S
        while self._connections and loop.time() < deadline_s:
            # connection_lost runs one loop iteration after the transport closes.
            await asyncio.sleep(0.01)
        if self._connections:
            logger.warning(
                "%d connections still open %.1f s after close; aborting them",
                len(self._connections),
                CLOSE_TIMEOUT_S,
            )
            for protocol in list(self._connections):
                protocol.abort()
