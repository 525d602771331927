"""ASGI servers that host an ASGI application on the running loop: uvicorn and granian.

Both run inside perfgate's own event loop (so `--loop` applies to them), and both
learn their port before they listen, which the ready-file contract needs for port 0:

- uvicorn gets a socket that perfgate binds itself, with SO_REUSEADDR and, when
  asked, SO_REUSEPORT; the kernel picks the port for port 0, and uvicorn only
  listens on it.
- granian binds its own socket, always with SO_REUSEPORT. perfgate first binds a
  socket of its own with SO_REUSEPORT and keeps it bound, never listening, while
  granian runs. Port 0 thus becomes a concrete port that no other program can take,
  and the reserving socket gets no connections because it does not listen. The host
  then connects until granian accepts, which is when the port is ready.

What each library enforces itself (checked on uvicorn 0.55 with httptools and
granian 2.8), beyond the body limit that the ASGI application checks (413):

- idle keep-alive connections: uvicorn closes them after `timeout_keep_alive`, set
  from `idle_timeout_s`. granian has no idle setting, but its `header_read_timeout`
  also covers the wait for a connection's next request.
- slow request heads: granian closes the connection after `header_read_timeout`,
  set from `read_timeout_s`. uvicorn has no such timeout, so a head sent one byte at
  a time keeps its connection open.
- head size: granian caps its read buffer at `max_buffer_size`, set from
  `max_head_bytes`; uvicorn with httptools has no limit.
- open connections: uvicorn responds 503 past `limit_concurrency` (connections plus
  running tasks), set from `max_connections`; granian has no cap.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any, Protocol

from targets.errors import TargetConfigError, TargetError
from targets.http.date import DateHeader
from targets.servers.base import ServerSettings, ServerState

logger = logging.getLogger(__name__)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
AsgiApp = Callable[[Scope, Receive, Send], Awaitable[None]]

LISTEN_BACKLOG = 1024
READY_TIMEOUT_S = 10.0
STOP_TIMEOUT_S = 10.0
_READY_POLL_INTERVAL_S = 0.02


class AsgiHost(Protocol):
    """Runs one ASGI application on one address, on the running loop."""

    async def start(self) -> tuple[str, int]:
        """Start serving and return the host and port once connections are accepted."""
        ...

    async def stop(self) -> None:
        """Stop accepting, close connections and wait, bounded, until they are closed."""
        ...


AsgiHostFactory = Callable[[AsgiApp, ServerSettings], AsgiHost]


def bind_socket(host: str, port: int, reuse_port: bool) -> socket.socket:
    """Create a TCP socket bound to `host:port` with SO_REUSEADDR, not yet listening.

    Raises:
        OSError: the address cannot be bound.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if reuse_port:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((host, port))
    except BaseException:
        sock.close()
        raise
    sock.setblocking(False)
    return sock


class UvicornHost:
    """Run the application with uvicorn's httptools protocol on a socket bound here."""

    def __init__(self, app: AsgiApp, settings: ServerSettings) -> None:
        """Prepare uvicorn for `app`, with the limits in `settings` that uvicorn supports."""
        import uvicorn

        self._settings = settings
        self._config = uvicorn.Config(
            app,
            host=settings.host,
            port=settings.port,
            loop="none",
            http="httptools",
            ws="none",
            lifespan="off",
            interface="asgi3",
            log_config=None,
            access_log=False,
            server_header=False,
            date_header=False,
            backlog=LISTEN_BACKLOG,
            limit_concurrency=settings.limits.max_connections,
            timeout_keep_alive=max(1, round(settings.limits.idle_timeout_s)),
            timeout_graceful_shutdown=round(STOP_TIMEOUT_S),
        )
        self._server = uvicorn.Server(self._config)
        self._socket: socket.socket | None = None
        self._main_task: asyncio.Task[None] | None = None

    async def start(self) -> tuple[str, int]:
        """Bind, let uvicorn listen, and return the bound host and port.

        `uvicorn.Server.serve` is not called, because it replaces the process's
        signal handlers; its startup, main loop and shutdown steps are called instead.
        """
        sock = bind_socket(self._settings.host, self._settings.port, self._settings.reuse_port)
        self._socket = sock
        self._config.load()
        self._server.lifespan = self._config.lifespan_class(self._config)
        await self._server.startup(sockets=[sock])
        self._main_task = asyncio.get_running_loop().create_task(self._server.main_loop())
        host, port = sock.getsockname()[:2]
        return str(host), int(port)

    async def stop(self) -> None:
        """Ask uvicorn to exit, then run its shutdown: stop accepting, drain, close."""
        self._server.should_exit = True
        if self._main_task is not None:
            await asyncio.wait_for(self._main_task, STOP_TIMEOUT_S)
        await self._server.shutdown(sockets=[self._socket] if self._socket else None)


class GranianHost:
    """Run the application with granian's embedded server, on the running loop."""

    def __init__(self, app: AsgiApp, settings: ServerSettings) -> None:
        """Prepare to serve `app`; the socket is bound by `start`."""
        self._app = app
        self._settings = settings
        self._reservation: socket.socket | None = None
        self._server: Any = None
        self._serve_task: asyncio.Task[None] | None = None

    async def start(self) -> tuple[str, int]:
        """Reserve the port, start granian on it and wait, bounded, until it accepts.

        Raises:
            TargetError: granian stopped, or did not accept connections in time.
        """
        from granian.constants import HTTPModes, Interfaces
        from granian.http import HTTP1Settings
        from granian.log import LogLevels
        from granian.server.embed import Server

        settings = self._settings
        limits = settings.limits
        self._reservation = bind_socket(settings.host, settings.port, reuse_port=True)
        host, port = self._reservation.getsockname()[:2]
        self._server = Server(
            self._app,
            address=settings.host,
            port=port,
            interface=Interfaces.ASGINL,
            http=HTTPModes.http1,
            websockets=False,
            backlog=LISTEN_BACKLOG,
            log_level=LogLevels.warning,
            http1_settings=HTTP1Settings(
                header_read_timeout=round(limits.read_timeout_s * 1000),
                max_buffer_size=max(limits.max_head_bytes, 8192),
            ),
        )
        self._serve_task = asyncio.get_running_loop().create_task(self._server.serve())
        await self._wait_until_accepting(str(host), int(port))
        return str(host), int(port)

    async def stop(self) -> None:
        """Stop granian's worker and wait, bounded, for it to finish; then free the port."""
        try:
            if self._server is not None and self._serve_task is not None:
                self._server.stop()
                await asyncio.wait_for(self._serve_task, STOP_TIMEOUT_S)
        finally:
            if self._reservation is not None:
                self._reservation.close()

    async def _wait_until_accepting(self, host: str, port: int) -> None:
        loop = asyncio.get_running_loop()
        deadline_s = loop.time() + READY_TIMEOUT_S
        while loop.time() < deadline_s:
            if self._serve_task is not None and self._serve_task.done():
                raise TargetError(f"granian stopped before accepting connections on port {port}")
            try:
                _, writer = await asyncio.open_connection(host, port)
            except OSError:
                await asyncio.sleep(_READY_POLL_INTERVAL_S)
                continue
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()
            return
        raise TargetError(
            f"granian did not accept connections on port {port} within "
            f"{READY_TIMEOUT_S} s; see its log above"
        )


ASGI_HOSTS: dict[str, AsgiHostFactory] = {
    "uvicorn": UvicornHost,
    "granian": GranianHost,
}


def get_asgi_host_factory(name: str) -> AsgiHostFactory:
    """Return the ASGI server library registered under `name`.

    Raises:
        TargetConfigError: no library has that name; the message lists the known ones.
    """
    try:
        return ASGI_HOSTS[name]
    except KeyError:
        known = ", ".join(sorted(ASGI_HOSTS))
        raise TargetConfigError(f"unknown ASGI server {name!r}: expected one of {known}") from None


class HostedAsgiServer:
    """A server variant made of an ASGI application and the ASGI server that hosts it."""

    def __init__(self, app: AsgiApp, settings: ServerSettings, date: DateHeader) -> None:
        """Serve `app` with the library `settings.asgi_server`, refreshing `date` while serving."""
        self._host = get_asgi_host_factory(settings.asgi_server)(app, settings)
        self._date = date
        self._state = ServerState.CREATED

    @property
    def state(self) -> ServerState:
        """The current lifecycle state."""
        return self._state

    async def start(self) -> tuple[str, int]:
        """Start the ASGI server and return the bound host and port.

        Raises:
            TargetError: the server is not in the `CREATED` state.
            OSError: the address cannot be bound.
        """
        if self._state is not ServerState.CREATED:
            raise TargetError(f"cannot start a server in state {self._state.value!r}")
        self._date.start(asyncio.get_running_loop())
        try:
            address = await self._host.start()
        except BaseException:
            self._date.stop()
            raise
        self._state = ServerState.SERVING
        return address

    async def stop(self) -> None:
        """Stop the ASGI server; does nothing once stopped.

        Raises:
            TargetError: the server was never started, or is stopping already.
        """
        if self._state is ServerState.STOPPED:
            return
        if self._state is not ServerState.SERVING:
            raise TargetError(f"cannot stop a server in state {self._state.value!r}")
        self._state = ServerState.STOPPING
        try:
            await self._host.stop()
        finally:
            self._date.stop()
            self._state = ServerState.STOPPED
