"""Options that choose the target's storage, shard routing and event queue.

`perfgate serve`, `perfgate db` and `perfgate consume` share them, so one data set
is always opened with the settings it was created with.
"""

from __future__ import annotations

from typing import Annotated

import typer

DbOption = Annotated[
    str,
    typer.Option(
        help="Storage: sqlite (files in --data-dir), a postgresql:// URL with {shard} "
        "(one database per shard) or a comma-separated list of URLs (shard i on URL i mod "
        "count).",
    ),
]
RouterOption = Annotated[str, typer.Option(help="Shard router: jump, modulo, rendezvous or ring.")]
PlacementOption = Annotated[
    str,
    typer.Option(
        help="Regions mapped to shard groups, such as 'eu=0-3;us|ca=4,5;*=6-7' (* matches "
        "other regions); empty routes every user over every shard. See docs/sharding.md.",
    ),
]
QueueOption = Annotated[
    str,
    typer.Option(
        help="Event queue: sqlite (an outbox table on each shard) or a Redis URL such as "
        "redis://HOST:PORT or redis://HOST:PORT/DB (Redis Streams)."
    ),
]
QueueNameOption = Annotated[
    str, typer.Option(help="Redis stream name of the event queue; keys derive from it.")
]
ShardTimeoutOption = Annotated[
    int,
    typer.Option(
        help="Milliseconds to wait for one shard, per query or scatter-gather leg; then 503 "
        "or a partial answer.",
        min=1,
    ),
]
PoolSizeOption = Annotated[
    int, typer.Option(help="Connections in each PostgreSQL shard's pool.", min=1)
]
