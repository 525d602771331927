"""The outbox queue: each event is a row on its user's shard, claimed by consumers.

Accepting an event is one durable insert on the shard that processing will write.
Processing updates the outbox row in the same transaction as the user, so an event
is processed once in effect even when a consumer dies in the middle of a batch. Its
claimed rows are claimed again once their lease expires.
"""

from __future__ import annotations

import asyncio
import logging
import time

from targets.errors import QueueFullError, StorageError
from targets.queue.base import (
    DEFAULT_BATCH,
    DEFAULT_LEASE_S,
    IDLE_WAIT_S,
    NOTIFIED_IDLE_WAIT_S,
    EnqueueNotifier,
    wait_or_stop,
)
from targets.storage.records import Event, EventStatus
from targets.storage.sharded import ShardedStore

logger = logging.getLogger(__name__)

DEPTH_REFRESH_S = 0.25
"""How often the queue recounts its backlog; between counts it adds its own enqueues."""

FAILURE_BACKOFF_S = 0.5


class OutboxQueue:
    """Events kept in the outbox table of their user's shard."""

    def __init__(
        self, store: ShardedStore, max_depth: int, notifier: EnqueueNotifier | None = None
    ) -> None:
        """Queue into `store`'s outboxes, rejecting events past `max_depth` unprocessed.

        Each enqueue wakes the consumers that `notifier`, if given, has subscribed.
        """
        self._store = store
        self._max_depth = max_depth
        self._notifier = notifier
        self._depth = 0
        self._counted_at_s = float("-inf")
        self._count_lock = asyncio.Lock()

    async def enqueue(self, event: Event) -> None:
        """Insert `event` into its shard's outbox, unless the backlog is full."""
        depth = await self._current_depth()
        if depth >= self._max_depth:
            raise QueueFullError(
                f"event queue contains {depth} unprocessed events (limit {self._max_depth})",
                retry_after_s=1,
            )
        await self._store.add_event(event)
        self._depth += 1
        if self._notifier is not None:
            self._notifier.notify(self._store.keyspace.shard_for_id(event.user_id))

    async def read_status(self, event: str, user_id: int) -> EventStatus | None:
        """Read the status from the outbox row, or the recorded outcome."""
        return await self._store.read_event_status(event, user_id)

    async def backlog(self) -> tuple[int, float | None]:
        """Count unprocessed events over every shard and find the oldest."""
        total = 0
        oldest: float | None = None
        for shard in range(self._store.keyspace.shards):
            count, shard_oldest = await self._store.outbox_backlog(shard)
            total += count
            if shard_oldest is not None and (oldest is None or shard_oldest < oldest):
                oldest = shard_oldest
        return total, oldest

    async def close(self) -> None:
        """Do nothing: the store owns the connections."""

    async def _current_depth(self) -> int:
        if time.monotonic() - self._counted_at_s < DEPTH_REFRESH_S:
            return self._depth
        async with self._count_lock:
            if time.monotonic() - self._counted_at_s >= DEPTH_REFRESH_S:
                self._depth, _ = await self.backlog()
                self._counted_at_s = time.monotonic()
        return self._depth


class OutboxConsumer:
    """One task per shard that claims outbox rows and processes them.

    Without a notifier, an idle task looks for events every `IDLE_WAIT_S`, which suits a
    consumer process apart from the server that enqueues. With one, it waits for an
    enqueue in this process, or for `NOTIFIED_IDLE_WAIT_S` at most.
    """

    def __init__(
        self,
        store: ShardedStore,
        batch: int = DEFAULT_BATCH,
        lease_s: float | None = None,
        notifier: EnqueueNotifier | None = None,
    ) -> None:
        """Process events from `store`'s outboxes, `batch` at a time per shard."""
        self._store = store
        self._batch = batch
        self._lease_s = DEFAULT_LEASE_S if lease_s is None else lease_s
        self._notifier = notifier
        self._stop = asyncio.Event()
        self._wakeups: list[asyncio.Event] = []
        self._tasks: list[asyncio.Task[None]] = []
        self.processed = 0

    async def start(self) -> None:
        """Start one consuming task per shard."""
        shards = self._store.keyspace.shards
        self._tasks = [
            asyncio.create_task(self._consume(shard), name=f"outbox consumer {shard}")
            for shard in range(shards)
        ]
        logger.info("outbox consumer started on %d shards (lease %.1f s)", shards, self._lease_s)

    async def stop(self) -> None:
        """Stop claiming, let each task finish its batch and wait for them."""
        self._stop.set()
        for wakeup in self._wakeups:
            wakeup.set()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
        logger.info("outbox consumer stopped after %d events", self.processed)

    async def _consume(self, shard: int) -> None:
        if self._notifier is None:
            await self._claim_and_process(shard, None)
            return
        wakeup = self._notifier.subscribe(shard)
        self._wakeups.append(wakeup)
        try:
            await self._claim_and_process(shard, wakeup)
        finally:
            self._notifier.unsubscribe(shard, wakeup)
            self._wakeups.remove(wakeup)

    async def _claim_and_process(self, shard: int, wakeup: asyncio.Event | None) -> None:
        while not self._stop.is_set():
            if wakeup is not None:
                wakeup.clear()
            try:
                events = await self._store.claim_events(shard, self._batch, self._lease_s)
            except StorageError as exc:
                logger.warning("claiming events on shard %d failed, retrying: %s", shard, exc)
                await wait_or_stop(self._stop, FAILURE_BACKOFF_S)
                continue
            except Exception:
                # Keep the shard's consumer alive: its claimed rows are resumed after the lease.
                logger.exception("outbox consumer of shard %d failed, retrying", shard)
                await wait_or_stop(self._stop, FAILURE_BACKOFF_S)
                continue
            if not events:
                await self._wait_idle(wakeup)
                continue
            await asyncio.gather(*(self._process(event) for event in events))

    async def _wait_idle(self, wakeup: asyncio.Event | None) -> None:
        if wakeup is None:
            await wait_or_stop(self._stop, IDLE_WAIT_S)
            return
        # `stop` sets `wakeup` too, so this one wait also ends on stop.
        try:
            async with asyncio.timeout(NOTIFIED_IDLE_WAIT_S):
                await wakeup.wait()
        except TimeoutError:
            pass

    async def _process(self, event: Event) -> None:
        try:
            await self._store.apply_event(event)
        except StorageError as exc:
            # The row stays `processing` and is claimed again when its lease expires.
            logger.warning("processing event %s failed, will retry: %s", event.id, exc)
        else:
            self.processed += 1
