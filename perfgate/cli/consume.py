"""The `perfgate consume` command: event-queue consumers as their own process."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from perfgate.cli.app import (
    DataDirOption,
    LoopOption,
    ShardsOption,
    VerboseOption,
    app,
    configure_logging,
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


@app.command()
def consume(
    db: DbOption = "sqlite",
    data_dir: DataDirOption = Path("data"),
    shards: ShardsOption = 4,
    router: RouterOption = "jump",
    placement: PlacementOption = "",
    queue: QueueOption = "sqlite",
    queue_name: QueueNameOption = "perfgate:events",
    consumers: Annotated[int, typer.Option(help="Consumers to run in this process.", min=1)] = 1,
    batch: Annotated[
        int,
        typer.Option(help="Events each consumer takes at once (per shard for the outbox).", min=1),
    ] = 64,
    lease: Annotated[
        float,
        typer.Option(
            help="Seconds an event may stay claimed and unfinished before another consumer "
            "takes it over.",
            min=0.001,
        ),
    ] = 10.0,
    shard_timeout_ms: ShardTimeoutOption = 1000,
    pool_size: PoolSizeOption = 8,
    loop: LoopOption = "uvloop",
    verbose: VerboseOption = False,
) -> None:
    """Process queued events until Ctrl-C or SIGTERM, beside targets run with --consumers 0."""
    from targets.queue.runner import consume as run_consume
    from targets.services import ServicesConfig

    configure_logging(verbose)
    config = ServicesConfig(
        db=db,
        router=router,
        placement=placement,
        queue=queue,
        queue_name=queue_name,
        consumers=consumers,
        queue_lease_s=lease,
        queue_batch=batch,
        shard_timeout_ms=shard_timeout_ms,
        pool_size=pool_size,
    )
    run_consume(config, shards, data_dir, loop)
