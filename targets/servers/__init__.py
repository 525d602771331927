"""Server variants, chosen by name: each serves the same endpoints over HTTP.

- `raw`: the asyncio Protocol server on httptools (`targets.servers.raw`).
- `asgi`: the same route table as a plain ASGI application (`targets.servers.asgi`).
- `fastapi`: the endpoints rewritten in FastAPI (`targets.servers.fastapi_app`).

`asgi` and `fastapi` run on the ASGI server library named by `--server`
(`targets.servers.asgi_hosts`); `targets.servers.multiproc` runs any of them in
several processes.
"""

from __future__ import annotations

from targets.errors import TargetConfigError
from targets.servers.asgi_hosts import ASGI_HOSTS, get_asgi_host_factory
from targets.servers.base import ServerFactory, ServerSettings, ServerState, TargetServer
from targets.servers.raw import RawServer


def _create_asgi_server(settings: ServerSettings) -> TargetServer:
    from targets.servers.asgi import create_asgi_server

    return create_asgi_server(settings)


def _create_fastapi_server(settings: ServerSettings) -> TargetServer:
    # Imported here: FastAPI and pydantic take about half a second to import.
    from targets.servers.fastapi_app import create_fastapi_server

    return create_fastapi_server(settings)


SERVERS: dict[str, ServerFactory] = {
    "raw": RawServer,
    "asgi": _create_asgi_server,
    "fastapi": _create_fastapi_server,
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


__all__ = [
    "ASGI_HOSTS",
    "SERVERS",
    "ServerFactory",
    "ServerSettings",
    "ServerState",
    "TargetServer",
    "get_asgi_host_factory",
    "get_server_factory",
]
