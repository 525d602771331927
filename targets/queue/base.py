"""The interfaces of an event queue and of its consumers."""

from __future__ import annotations

import asyncio
from typing import Protocol

from targets.storage.records import Event, EventStatus

DEFAULT_BATCH = 64
"""Events a consumer takes at once; processed concurrently, so the shard commits them together."""

DEFAULT_LEASE_S = 10.0
"""How long a claimed event may stay unfinished before another consumer takes it over."""

IDLE_WAIT_S = 0.05
"""How long a consumer waits when it found nothing to do, before it looks again."""


class EventQueue(Protocol):
    """The store of events that `POST /events` adds to and `GET /events/{id}` reads."""

    async def enqueue(self, event: Event) -> None:
        """Store `event` durably with the status `queued`.

        Raises:
            QueueFullError: the queue contains its maximum of unprocessed events.
            ShardUnavailableError: the outbox's shard cannot take the write.
        """
        ...

    async def read_status(self, event: str, user_id: int) -> EventStatus | None:
        """Return the status of the event with id `event`, or `None` if unknown."""
        ...

    async def backlog(self) -> tuple[int, float | None]:
        """Return the unprocessed events and the enqueue time of the oldest (epoch seconds)."""
        ...

    async def close(self) -> None:
        """Release the queue's connections."""
        ...


class Consumer(Protocol):
    """Processes queued events in background tasks until stopped."""

    async def start(self) -> None:
        """Start the background tasks."""
        ...

    async def stop(self) -> None:
        """Stop taking events, finish the ones in progress and release connections."""
        ...


async def wait_or_stop(stop: asyncio.Event, timeout_s: float) -> None:
    """Wait until `stop` is set or `timeout_s` passes, whichever comes first."""
    try:
        async with asyncio.timeout(timeout_s):
            await stop.wait()
    except TimeoutError:
        pass
