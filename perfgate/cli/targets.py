"""Commands that run and prepare the reference targets: `serve` and `db`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from perfgate.cli.app import (
    CodecOption,
    DataDirOption,
    LoopOption,
    ShardsOption,
    SqliteModeOption,
    TargetOption,
    VerboseOption,
    app,
    configure_logging,
    console,
    db_app,
)


@app.command()
def serve(
    target: TargetOption = "raw",
    codec: CodecOption = "orjson",
    loop: LoopOption = "uvloop",
    host: Annotated[str, typer.Option(help="Address to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port; 0 picks a free one.", min=0)] = 8080,
    data_dir: DataDirOption = Path("data"),
    shards: ShardsOption = 4,
    sqlite_mode: SqliteModeOption = "inline",
    ready_file: Annotated[
        Path | None,
        typer.Option(help="Write host:port to this file once the server accepts connections."),
    ] = None,
    verbose: VerboseOption = False,
) -> None:
    """Run one target variant in the foreground until Ctrl-C or SIGTERM."""
    from targets.config import TargetConfig
    from targets.serve import serve as serve_target

    configure_logging(verbose)
    config = TargetConfig(
        target=target,
        codec=codec,
        loop=loop,
        host=host,
        port=port,
        data_dir=data_dir,
        shards=shards,
        sqlite_mode=sqlite_mode,
        ready_file=ready_file,
    )
    serve_target(config)


@db_app.command("init")
def db_init(
    data_dir: DataDirOption = Path("data"),
    shards: ShardsOption = 4,
) -> None:
    """Create the SQLite shard files and seed the world and fortune tables."""
    from targets.storage.sqlite import init_shards

    configure_logging(False)
    paths = init_shards(data_dir, shards)
    for path in paths:
        console.print(f"shard ready: {path}")
