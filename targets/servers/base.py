"""The interface every server variant implements: a start/stop lifecycle on one address."""

from __future__ import annotations

import enum
from collections.abc import Callable
from typing import Protocol

from targets.app.routes import RouteTable


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


ServerFactory = Callable[[RouteTable, str, int], TargetServer]
"""Create a server for `(routes, host, port)`; port 0 lets the kernel pick one."""
