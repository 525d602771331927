"""The interface every server variant implements: a start/stop lifecycle on one address."""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Callable
from typing import Protocol

from targets.app.routes import RouteTable
from targets.codecs.base import Codec
from targets.http.limits import ConnectionLimits
from targets.storage.base import Storage


class ServerState(enum.Enum):
    """Lifecycle of a server: created, then serving, then stopping, then stopped."""

    CREATED = "created"
    SERVING = "serving"
    STOPPING = "stopping"
    STOPPED = "stopped"


class TargetServer(Protocol):
    """A server variant that serves one route table on one address."""

    @property
    def state(self) -> ServerState:
        """The current lifecycle state."""
        ...

    async def start(self) -> tuple[str, int]:
        """Bind, start accepting connections and return the bound host and port."""
        ...

    async def stop(self) -> None:
        """Stop accepting, close every connection and wait until they are closed."""
        ...


@dataclasses.dataclass(frozen=True)
class ServerSettings:
    """Everything a server variant needs to serve the target on one address.

    Attributes:
        routes: the route table every framework-free variant serves.
        codec: the JSON codec, for variants that build their own handlers (FastAPI).
        storage: the world and fortune tables, for the same variants.
        host: address to bind.
        port: TCP port; 0 lets the kernel pick a free one.
        limits: request size, timeout and connection limits.
        reuse_port: bind with SO_REUSEPORT, so that several processes share the port.
        asgi_server: the ASGI server library (`uvicorn`, `granian`) for ASGI variants.
    """

    routes: RouteTable
    codec: Codec
    storage: Storage
    host: str
    port: int
    limits: ConnectionLimits = dataclasses.field(default_factory=ConnectionLimits)
    reuse_port: bool = False
    asgi_server: str = "uvicorn"


ServerFactory = Callable[[ServerSettings], TargetServer]
"""Create a server variant for `settings`; it binds only when started."""
