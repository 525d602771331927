"""Event queues behind one interface, chosen by `--queue`: the shard outbox or Redis Streams.

`sqlite` (the default) keeps each event in an outbox table on its user's shard, and
consumers claim rows from there. With PostgreSQL shards the outbox lives in
PostgreSQL too. `redis://host:port[/db]` appends events to a Redis stream read by a
consumer group. Either way, processing writes the user's shard once in effect.
"""

from __future__ import annotations

from targets.errors import TargetConfigError
from targets.queue.base import DEFAULT_BATCH, Consumer, EnqueueNotifier, EventQueue
from targets.queue.outbox import OutboxConsumer, OutboxQueue
from targets.storage.sharded import ShardedStore

DEFAULT_QUEUE = "sqlite"
DEFAULT_QUEUE_NAME = "perfgate:events"
DEFAULT_MAX_DEPTH = 10_000


def check_queue(spec: str) -> None:
    """Raise `TargetConfigError` unless `spec` is `sqlite` or a `redis://` URL."""
    if spec != "sqlite" and not spec.startswith(("redis://", "rediss://")):
        raise TargetConfigError(
            f"unknown queue {spec!r}: expected sqlite (the shard outbox) or redis://HOST:PORT"
        )


async def open_queue(
    spec: str,
    store: ShardedStore,
    name: str = DEFAULT_QUEUE_NAME,
    max_depth: int = DEFAULT_MAX_DEPTH,
    notifier: EnqueueNotifier | None = None,
) -> EventQueue:
    """Open the queue named by `spec` over `store`.

    The outbox wakes the consumers subscribed to `notifier` at each enqueue. Redis
    ignores `notifier`, because its consumers block on the stream instead.

    Raises:
        TargetConfigError: `spec` names no queue kind.
        QueueUnavailableError: Redis cannot be reached.
    """
    check_queue(spec)
    if spec == "sqlite":
        return OutboxQueue(store, max_depth, notifier)
    from targets.queue.redis_streams import RedisQueue

    return await RedisQueue.open(spec, store, name, max_depth)


def create_consumer(
    spec: str,
    store: ShardedStore,
    name: str = DEFAULT_QUEUE_NAME,
    *,
    consumer_name: str | None = None,
    lease_s: float | None = None,
    batch: int = DEFAULT_BATCH,
    notifier: EnqueueNotifier | None = None,
) -> Consumer:
    """Create, not yet started, a consumer of the queue named by `spec`.

    An outbox consumer given `notifier` waits for enqueues in this process instead of
    polling every `IDLE_WAIT_S`. A Redis consumer ignores it.
    """
    check_queue(spec)
    if spec == "sqlite":
        return OutboxConsumer(store, batch=batch, lease_s=lease_s, notifier=notifier)
    from targets.queue.redis_streams import RedisConsumer

    return RedisConsumer(
        spec, store, name, consumer_name=consumer_name, batch=batch, lease_s=lease_s
    )


__all__ = [
    "DEFAULT_MAX_DEPTH",
    "DEFAULT_QUEUE",
    "DEFAULT_QUEUE_NAME",
    "Consumer",
    "EnqueueNotifier",
    "EventQueue",
    "check_queue",
    "create_consumer",
    "open_queue",
]
