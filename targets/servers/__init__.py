"""Server variants, chosen by name: each serves the same route table over HTTP."""

from __future__ import annotations

from targets.errors import TargetConfigError
from targets.servers.base import ServerFactory, ServerState, TargetServer
from targets.servers.raw import RawServer

SERVERS: dict[str, ServerFactory] = {
    "raw": RawServer,
}


def get_server_factory(name: str) -> ServerFactory:
    """Return the server variant registered under `name`.

    Raises:
        TargetConfigError: no variant has that name; the message lists the known ones.
    """
    try:
        return SERVERS[name]
    except KeyError:
        known = ", ".join(sorted(SERVERS))
        raise TargetConfigError(f"unknown target {name!r}: expected one of {known}") from None


__all__ = ["SERVERS", "ServerFactory", "ServerState", "TargetServer", "get_server_factory"]
