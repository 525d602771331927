"""Run queue consumers as a process of their own: the library behind `perfgate consume`.

The process opens the same shards and queue a target would, with no HTTP server,
and processes events until SIGINT or SIGTERM. On a signal it stops taking events,
finishes the ones in progress and closes its connections. A consumer killed instead
leaves its claimed events to be taken over once their lease expires.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from pathlib import Path

from targets.loops import get_loop_factory
from targets.services import ServicesConfig, open_services

logger = logging.getLogger(__name__)


def consume(config: ServicesConfig, shards: int, data_dir: Path, loop: str = "uvloop") -> None:
    """Process queued events with `config.consumers` consumers until SIGINT or SIGTERM.

    Raises:
        TargetConfigError: a setting is invalid or the shards record another layout.
        StorageError: a shard cannot be opened or reached.
    """
    with asyncio.Runner(loop_factory=get_loop_factory(loop)) as runner:
        runner.run(run_consumers(config, shards, data_dir))


async def run_consumers(
    config: ServicesConfig, shards: int, data_dir: Path, stop: asyncio.Event | None = None
) -> None:
    """Run the consumers on the running loop until `stop` is set or a signal arrives."""
    stop_event = stop if stop is not None else asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop_event.set)
    try:
        services = await open_services(
            config, shards, data_dir, sqlite_mode="inline", serves_requests=False
        )
        try:
            logger.info("consuming events with %d consumers", config.consumers)
            await stop_event.wait()
            logger.info("stopping consumers")
        finally:
            await services.close()
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)
    logger.info("consumers stopped")
