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

NOTIFIED_IDLE_WAIT_S = 1.0
"""How long a consumer woken by an `EnqueueNotifier` waits, at most, before it looks again.

The bound still finds events whose lease expired and events that another process added.
"""


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


class EnqueueNotifier:
    """Wakes the idle consumer tasks of a shard when this process enqueues an event there.

    Each task subscribes once and gets an `asyncio.Event` of its own, which every
    enqueue on its shard sets. The task clears it before it looks for events, so an
    enqueue during the look is not missed. Use it from the event loop's thread only.
    """

    def __init__(self) -> None:
        """Start with no subscribers."""
        self._subscribers: dict[int, list[asyncio.Event]] = {}

    def subscribe(self, shard: int) -> asyncio.Event:
        """Return a new event that each enqueue on `shard` sets."""
        wakeup = asyncio.Event()
        self._subscribers.setdefault(shard, []).append(wakeup)
        return wakeup

    def unsubscribe(self, shard: int, wakeup: asyncio.Event) -> None:
        """Stop setting `wakeup`, an event that `subscribe(shard)` returned."""
        subscribers = self._subscribers.get(shard, [])
        if wakeup in subscribers:
            subscribers.remove(wakeup)

    def notify(self, shard: int) -> None:
        """Wake every task subscribed to `shard`."""
        for wakeup in self._subscribers.get(shard, ()):
            wakeup.set()


async def wait_or_stop(stop: asyncio.Event, timeout_s: float) -> None:
    """Wait until `stop` is set or `timeout_s` passes, whichever comes first."""
    try:
        async with asyncio.timeout(timeout_s):
            await stop.wait()
    except TimeoutError:
        pass
