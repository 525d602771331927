"""Outbox consumers that wait for enqueues in their process instead of polling.

The tests raise the bounded idle wait to far beyond their own timeouts, so an event
processed in time proves that the enqueue woke the consumer. Claim counts show that
an idle consumer does not look again by itself.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable

import pytest

from targets.queue import outbox
from targets.queue.base import EnqueueNotifier
from targets.queue.outbox import OutboxConsumer, OutboxQueue
from targets.routing.keyspace import Keyspace
from targets.storage.memory_sharded import MemoryShardedStore
from targets.storage.records import Event, EventStatus, User

SHARDS = 4
WAIT_TIMEOUT_S = 5.0
IDLE_WAIT_FOR_TESTS_S = 600.0
EVENT_ID = "7-00000000000000a1"


class ClaimCountingStore(MemoryShardedStore):
    """The in-memory store, counting `claim_events` calls."""

    def __init__(self, keyspace: Keyspace) -> None:
        """Start with empty shards and no claims."""
        super().__init__(keyspace)
        self.claims = 0

    async def claim_events(self, shard: int, limit: int, lease_s: float) -> list[Event]:
        """Count the call, then claim as the in-memory store does."""
        self.claims += 1
        return await super().claim_events(shard, limit, lease_s)


@pytest.fixture
def store() -> ClaimCountingStore:
    return ClaimCountingStore(Keyspace(SHARDS))


@pytest.fixture
async def consumer(
    store: ClaimCountingStore, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[tuple[OutboxQueue, OutboxConsumer]]:
    """A started consumer and its queue, sharing one notifier, idle once yielded."""
    monkeypatch.setattr(outbox, "NOTIFIED_IDLE_WAIT_S", IDLE_WAIT_FOR_TESTS_S)
    notifier = EnqueueNotifier()
    queue = OutboxQueue(store, max_depth=100, notifier=notifier)
    started = OutboxConsumer(store, notifier=notifier)
    await started.start()
    await _wait_until(lambda: store.claims == SHARDS)
    yield queue, started
    await started.stop()


async def _wait_until(condition: Callable[[], bool]) -> None:
    async with asyncio.timeout(WAIT_TIMEOUT_S):
        while not condition():
            await asyncio.sleep(0.001)


async def test_enqueue_wakes_idle_consumer(
    store: ClaimCountingStore, consumer: tuple[OutboxQueue, OutboxConsumer]
) -> None:
    queue, started = consumer
    store.users[store.keyspace.shard_for_id(7)][7] = User(7, "Ann", "eu")

    await queue.enqueue(Event(EVENT_ID, "visit", 7, "{}", time.time()))
    await _wait_until(lambda: started.processed == 1)

    assert await store.read_event_status(EVENT_ID, 7) is EventStatus.DONE
    # Only the woken shard looked again: once to claim the event, once to find none.
    await _wait_until(lambda: store.claims >= SHARDS + 2)
    for _ in range(100):
        await asyncio.sleep(0)
    assert store.claims == SHARDS + 2


async def test_stop_ends_idle_wait(consumer: tuple[OutboxQueue, OutboxConsumer]) -> None:
    _, started = consumer

    async with asyncio.timeout(WAIT_TIMEOUT_S):
        await started.stop()


async def test_unnotified_consumer_polls(store: ClaimCountingStore) -> None:
    started = OutboxConsumer(store)
    await started.start()
    try:
        await _wait_until(lambda: store.claims >= 3 * SHARDS)
    finally:
        await started.stop()

    assert store.claims >= 3 * SHARDS
