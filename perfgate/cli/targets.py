"""Commands that run and prepare the reference targets: `serve` and `db`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from perfgate.cli.app import (
    CodecOption,
    DataDirOption,
    LoopOption,
    ProcsOption,
    ServerOption,
    ShardsOption,
    SqliteModeOption,
    TargetOption,
    VerboseOption,
    app,
    configure_logging,
    console,
    db_app,
)
from perfgate.cli.service_options import (
    DbOption,
    PlacementOption,
    PoolSizeOption,
    QueueNameOption,
    QueueOption,
    RouterOption,
    ShardTimeoutOption,
)
from targets.http.limits import (
    DEFAULT_IDLE_TIMEOUT_S,
    DEFAULT_MAX_BODY_BYTES,
    DEFAULT_MAX_CONNECTIONS,
    DEFAULT_MAX_HEAD_BYTES,
    DEFAULT_READ_TIMEOUT_S,
)


@app.command()
def serve(
    target: TargetOption = "raw",
    server: ServerOption = "uvicorn",
    procs: ProcsOption = 1,
    codec: CodecOption = "orjson",
    loop: LoopOption = "uvloop",
    host: Annotated[str, typer.Option(help="Address to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port; 0 picks a free one.", min=0)] = 8080,
    data_dir: DataDirOption = Path("data"),
    shards: ShardsOption = 4,
    sqlite_mode: SqliteModeOption = "inline",
    db: DbOption = "sqlite",
    router: RouterOption = "jump",
    placement: PlacementOption = "",
    queue: QueueOption = "sqlite",
    queue_name: QueueNameOption = "perfgate:events",
    queue_max_depth: Annotated[
        int, typer.Option(help="Unprocessed events at which POST /events gets 503.", min=1)
    ] = 10_000,
    consumers: Annotated[
        int,
        typer.Option(
            help="Queue consumers run inside the server; 0 leaves processing to perfgate consume.",
            min=0,
        ),
    ] = 1,
    shard_timeout_ms: ShardTimeoutOption = 1000,
    pool_size: PoolSizeOption = 8,
    group_commit: Annotated[
        bool,
        typer.Option(
            help="Commit concurrent SQLite writes of a shard together (off: one commit each)."
        ),
    ] = True,
    metrics: Annotated[
        bool, typer.Option(help="Record requests and latency per route for GET /metrics.")
    ] = True,
    ready_file: Annotated[
        Path | None,
        typer.Option(help="Write host:port to this file once the server accepts connections."),
    ] = None,
    max_connections: Annotated[
        int, typer.Option(help="Open connections served at once; 503 for each one past it.", min=1)
    ] = DEFAULT_MAX_CONNECTIONS,
    read_timeout: Annotated[
        float,
        typer.Option(
            help="Seconds allowed to receive one whole request from its first byte; then 408.",
            min=0.001,
        ),
    ] = DEFAULT_READ_TIMEOUT_S,
    idle_timeout: Annotated[
        float,
        typer.Option(help="Seconds an idle keep-alive connection stays open.", min=0.001),
    ] = DEFAULT_IDLE_TIMEOUT_S,
    max_head_bytes: Annotated[
        int, typer.Option(help="Largest request head in bytes; 431 past it.", min=1)
    ] = DEFAULT_MAX_HEAD_BYTES,
    max_body_bytes: Annotated[
        int, typer.Option(help="Largest request body in bytes; 413 past it.", min=1)
    ] = DEFAULT_MAX_BODY_BYTES,
    verbose: VerboseOption = False,
) -> None:
    """Run one target variant in the foreground until Ctrl-C or SIGTERM."""
    from targets.config import TargetConfig
    from targets.http.limits import ConnectionLimits
    from targets.serve import serve as serve_target
    from targets.services import ServicesConfig

    configure_logging(verbose)
    config = TargetConfig(
        target=target,
        server=server,
        procs=procs,
        codec=codec,
        loop=loop,
        host=host,
        port=port,
        data_dir=data_dir,
        shards=shards,
        sqlite_mode=sqlite_mode,
        ready_file=ready_file,
        limits=ConnectionLimits(
            max_head_bytes=max_head_bytes,
            max_body_bytes=max_body_bytes,
            read_timeout_s=read_timeout,
            idle_timeout_s=idle_timeout,
            max_connections=max_connections,
        ),
        services=ServicesConfig(
            db=db,
            router=router,
            placement=placement,
            queue=queue,
            queue_name=queue_name,
            queue_max_depth=queue_max_depth,
            consumers=consumers,
            shard_timeout_ms=shard_timeout_ms,
            group_commit=group_commit,
            pool_size=pool_size,
            metrics=metrics,
        ),
    )
    serve_target(config)


@db_app.command("init")
def db_init(
    data_dir: DataDirOption = Path("data"),
    shards: ShardsOption = 4,
    db: DbOption = "sqlite",
    router: RouterOption = "jump",
    placement: PlacementOption = "",
) -> None:
    """Create the shards (SQLite files or PostgreSQL databases) and seed their tables."""
    from targets.routing.keyspace import Keyspace
    from targets.storage.admin import init_storage

    configure_logging(False)
    for shard in init_storage(db, data_dir, Keyspace(shards, router, placement)):
        console.print(f"shard ready: {shard}", highlight=False)


@db_app.command("reshard")
def db_reshard(
    shards: Annotated[int, typer.Option(help="The new number of logical shards.", min=1)],
    data_dir: DataDirOption = Path("data"),
    db: DbOption = "sqlite",
    router: Annotated[
        str | None, typer.Option(help="The new shard router; the recorded one by default.")
    ] = None,
    placement: Annotated[
        str | None,
        typer.Option(
            help="The new placement; the recorded one by default, which fits only when the "
            "shard count stays."
        ),
    ] = None,
) -> None:
    """Move the rows whose shard changes to their new shard; stop the target first."""
    from targets.storage.admin import reshard_storage

    configure_logging(False)
    report = reshard_storage(db, data_dir, shards, router, placement)
    console.print(f"resharded from {report.old_shards} to {report.new_shards} shards")
    for table, rows in report.rows.items():
        moved = report.moved[table]
        share = report.moved_share(table)
        console.print(f"{table}: moved {moved} of {rows} rows ({share:.1%})", highlight=False)
