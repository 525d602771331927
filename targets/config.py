"""Target configuration: which variant to serve, where, and on what storage."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from targets.http.limits import ConnectionLimits
from targets.services import ServicesConfig

DEFAULT_SHARDS = 4
DEFAULT_DATA_DIR = Path("data")


@dataclasses.dataclass(frozen=True)
class TargetConfig:
    """Everything that selects and places one target variant.

    Attributes:
        target: server variant name: `raw` (the asyncio Protocol server), `asgi` (the
            same handlers as a plain ASGI app) or `fastapi`.
        server: the ASGI server library that runs `asgi` and `fastapi` (`uvicorn`,
            `granian`); `raw` ignores it.
        procs: number of server processes sharing the port through SO_REUSEPORT.
        codec: JSON codec name (`json`, `orjson`, `msgspec`).
        loop: event loop name (`asyncio`, `uvloop`).
        host: address to bind; loopback unless the user names another.
        port: TCP port; 0 lets the kernel pick a free one.
        data_dir: folder that holds the SQLite shard files.
        shards: number of shard files.
        sqlite_mode: how reads reach SQLite (`inline`, `threads`, `aiosqlite`).
        ready_file: when set, the server writes `host:port` there once it accepts
            connections, so a parent process learns the port picked for port 0.
        limits: request size, timeout and open connection limits.
        reuse_port: bind with SO_REUSEPORT; set for each process when `procs` > 1.
        services: storage backend, shard router and placement, event queue, metrics.
    """

    target: str = "raw"
    server: str = "uvicorn"
    procs: int = 1
    codec: str = "orjson"
    loop: str = "uvloop"
    host: str = "127.0.0.1"
    port: int = 8080
    data_dir: Path = DEFAULT_DATA_DIR
    shards: int = DEFAULT_SHARDS
    sqlite_mode: str = "inline"
    ready_file: Path | None = None
    limits: ConnectionLimits = dataclasses.field(default_factory=ConnectionLimits)
    reuse_port: bool = False
    services: ServicesConfig = dataclasses.field(default_factory=ServicesConfig)
