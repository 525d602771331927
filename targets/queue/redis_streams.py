"""The Redis Streams queue: events appended to one stream, read by a consumer group.

Keys, for a queue named `NAME`: the stream `NAME`, the hash `NAME:status` (event
id to status) and the consumer group `perfgate`. A consumer reads new entries with
XREADGROUP, processes them, then acknowledges and deletes each (XACK, XDEL), so the
stream's length is the number of unprocessed events. Entries a dead consumer had
read but not acknowledged stay pending, and XAUTOCLAIM hands them to a live consumer
once they were idle for the lease. Processing is idempotent on the shard, so an
entry processed twice counts once.

NOTE: an event acknowledged with 202 is as durable as the Redis server's persistence
settings make it (`appendonly` and `appendfsync`); perfgate does not change them.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
from collections.abc import Awaitable
from typing import Any, TypeVar, cast

import redis.asyncio as redis_asyncio
from redis.exceptions import RedisError, ResponseError

from targets.errors import QueueFullError, StorageError, TargetError
from targets.queue.base import DEFAULT_BATCH, DEFAULT_LEASE_S, wait_or_stop
from targets.storage.directory import redact_dsn
from targets.storage.records import Event, EventStatus
from targets.storage.sharded import ShardedStore

logger = logging.getLogger(__name__)

T = TypeVar("T")

GROUP = "perfgate"
READ_BLOCK_MS = 200
DEPTH_REFRESH_S = 0.25
FAILURE_BACKOFF_S = 0.5


class QueueUnavailableError(TargetError):
    """The Redis server of the queue cannot be reached."""


SOCKET_TIMEOUT_S = 5.0
"""Maximum wait for one Redis reply; above `READ_BLOCK_MS`, so blocking reads never hit it."""


def _connect(url: str) -> redis_asyncio.Redis:
    """Create a client whose connects and replies time out instead of hanging."""
    return redis_asyncio.Redis.from_url(
        url, socket_timeout=SOCKET_TIMEOUT_S, socket_connect_timeout=SOCKET_TIMEOUT_S
    )


async def _resolve(reply: Awaitable[T] | T) -> T:
    """Await a redis-py reply; its commands are typed for the sync and async clients both."""
    return await cast(Awaitable[T], reply)


class RedisQueue:
    """Events appended to a Redis stream; see the module docstring."""

    def __init__(self, client: redis_asyncio.Redis, name: str, max_depth: int) -> None:
        """Use an open client; see `open`."""
        self._client = client
        self._stream = name
        self._status = f"{name}:status"
        self._max_depth = max_depth
        self._depth = 0
        self._counted_at_s = float("-inf")

    @classmethod
    async def open(cls, url: str, store: ShardedStore, name: str, max_depth: int) -> RedisQueue:
        """Connect to Redis at `url` and check that it responds.

        Raises:
            QueueUnavailableError: Redis does not respond.
        """
        client = _connect(url)
        try:
            await _resolve(client.ping())
        except (RedisError, OSError) as exc:
            await client.aclose()
            raise QueueUnavailableError(
                f"cannot reach the Redis queue at {redact_dsn(url)}: {exc}"
            ) from exc
        return cls(client, name, max_depth)

    async def enqueue(self, event: Event) -> None:
        """Append `event` to the stream and mark it `queued`, in one transaction."""
        depth = await self._current_depth()
        if depth >= self._max_depth:
            raise QueueFullError(
                f"event queue contains {depth} unprocessed events (limit {self._max_depth})",
                retry_after_s=1,
            )
        try:
            async with self._client.pipeline(transaction=True) as pipe:
                pipe.hset(self._status, event.id, EventStatus.QUEUED.value)
                pipe.xadd(self._stream, encode_event(event))
                await pipe.execute()
        except (RedisError, OSError) as exc:
            raise StorageError(f"queueing event {event.id} in Redis failed: {exc}") from exc
        self._depth += 1

    async def read_status(self, event: str, user_id: int) -> EventStatus | None:
        """Read the event's status from the status hash."""
        try:
            value = await _resolve(self._client.hget(self._status, event))
        except (RedisError, OSError) as exc:
            raise StorageError(f"reading the status of event {event} failed: {exc}") from exc
        if value is None:
            return None
        return EventStatus(value.decode("ascii") if isinstance(value, bytes) else value)

    async def backlog(self) -> tuple[int, float | None]:
        """Return the stream's length and the time of its oldest entry."""
        length = int(await self._client.xlen(self._stream))
        oldest: float | None = None
        first = await self._client.xrange(self._stream, count=1)
        if first:
            entry_id = first[0][0].decode("ascii")
            oldest = int(entry_id.split("-", 1)[0]) / 1000.0
        return length, oldest

    async def close(self) -> None:
        """Close the Redis connections."""
        await self._client.aclose()

    async def _current_depth(self) -> int:
        if time.monotonic() - self._counted_at_s >= DEPTH_REFRESH_S:
            self._depth = int(await self._client.xlen(self._stream))
            self._counted_at_s = time.monotonic()
        return self._depth


class RedisConsumer:
    """One member of the consumer group; processes entries and reclaims abandoned ones."""

    def __init__(
        self,
        url: str,
        store: ShardedStore,
        name: str,
        *,
        consumer_name: str | None = None,
        batch: int = DEFAULT_BATCH,
        lease_s: float | None = None,
    ) -> None:
        """Consume the stream `name` at `url`, applying events to `store`.

        Args:
            url: the Redis URL.
            store: the shards that processing writes to.
            name: the queue's name, as given to `RedisQueue`.
            consumer_name: this member's name in the group; host and process id by default.
            batch: entries read at once.
            lease_s: idle time after which another member's pending entries are reclaimed.
        """
        self._url = url
        self._store = store
        self._stream = name
        self._status = f"{name}:status"
        self._consumer = consumer_name or f"{socket.gethostname()}-{os.getpid()}"
        self._batch = batch
        self._lease_ms = int(1000 * (DEFAULT_LEASE_S if lease_s is None else lease_s))
        self._client: redis_asyncio.Redis | None = None
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.processed = 0

    async def start(self) -> None:
        """Connect, create the group if missing and start consuming.

        Raises:
            QueueUnavailableError: Redis does not respond.
        """
        self._client = _connect(self._url)
        try:
            await self._create_group(self._client)
        except (RedisError, OSError) as exc:
            await self._client.aclose()
            raise QueueUnavailableError(
                f"cannot reach the Redis queue at {redact_dsn(self._url)}: {exc}"
            ) from exc
        self._task = asyncio.create_task(self._consume(self._client), name="redis consumer")
        logger.info("redis consumer %s started on stream %s", self._consumer, self._stream)

    async def stop(self) -> None:
        """Stop reading, finish the entries in progress and close the connection."""
        self._stop.set()
        if self._task is not None:
            await asyncio.gather(self._task, return_exceptions=True)
        if self._client is not None:
            await self._client.aclose()
        logger.info("redis consumer %s stopped after %d events", self._consumer, self.processed)

    async def _create_group(self, client: redis_asyncio.Redis) -> None:
        try:
            # Id 0: a group created after events were queued still delivers them.
            await client.xgroup_create(self._stream, GROUP, id="0", mkstream=True)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    async def _consume(self, client: redis_asyncio.Redis) -> None:
        next_reclaim_s = 0.0
        while not self._stop.is_set():
            try:
                entries: list[tuple[bytes, dict[bytes, bytes]]] = []
                if time.monotonic() >= next_reclaim_s:
                    entries = await self._reclaim(client)
                    next_reclaim_s = time.monotonic() + self._lease_ms / 2000.0
                if not entries:
                    entries = await self._read_new(client)
                if entries:
                    await asyncio.gather(*(self._process(client, *entry) for entry in entries))
            except (RedisError, OSError) as exc:
                logger.warning("redis consumer %s failed, retrying: %s", self._consumer, exc)
                await wait_or_stop(self._stop, FAILURE_BACKOFF_S)
            except Exception:
                # Keep consuming: entries not acknowledged are reclaimed after the lease.
                logger.exception("redis consumer %s failed, retrying", self._consumer)
                await wait_or_stop(self._stop, FAILURE_BACKOFF_S)

    async def _reclaim(self, client: redis_asyncio.Redis) -> list[tuple[bytes, dict[bytes, bytes]]]:
        """Take over entries pending longer than the lease, from any member of the group."""
        reply: list[Any] = await client.xautoclaim(
            self._stream, GROUP, self._consumer, self._lease_ms, "0-0", count=self._batch
        )
        claimed = [(entry_id, fields) for entry_id, fields in reply[1] if fields]
        if claimed:
            logger.info("reclaimed %d pending events", len(claimed))
        return claimed

    async def _read_new(
        self, client: redis_asyncio.Redis
    ) -> list[tuple[bytes, dict[bytes, bytes]]]:
        reply = await client.xreadgroup(
            GROUP, self._consumer, {self._stream: ">"}, count=self._batch, block=READ_BLOCK_MS
        )
        if not reply:
            return []
        return [(entry_id, fields) for entry_id, fields in reply[0][1]]

    async def _process(
        self, client: redis_asyncio.Redis, entry_id: bytes, fields: dict[bytes, bytes]
    ) -> None:
        event = decode_event(fields)
        await _resolve(client.hset(self._status, event.id, EventStatus.PROCESSING.value))
        try:
            outcome = await self._store.apply_event(event)
        except StorageError as exc:
            # Left pending: reclaimed and processed again once its lease expires.
            logger.warning("processing event %s failed, will retry: %s", event.id, exc)
            return
        async with client.pipeline(transaction=True) as pipe:
            pipe.hset(self._status, event.id, outcome.value)
            pipe.xack(self._stream, GROUP, entry_id)
            pipe.xdel(self._stream, entry_id)
            await pipe.execute()
        self.processed += 1


def encode_event(event: Event) -> dict[Any, Any]:
    """Return the stream entry fields of `event`."""
    return {
        "id": event.id,
        "kind": event.kind,
        "user_id": event.user_id,
        "payload": event.payload,
        "enqueued_at": repr(event.enqueued_at),
    }


def decode_event(fields: dict[bytes, bytes]) -> Event:
    """Rebuild an `Event` from its stream entry fields."""
    return Event(
        id=fields[b"id"].decode("ascii"),
        kind=fields[b"kind"].decode("utf-8"),
        user_id=int(fields[b"user_id"]),
        payload=fields[b"payload"].decode("utf-8"),
        enqueued_at=float(fields[b"enqueued_at"]),
    )
