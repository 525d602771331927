"""The target's stateful services: storage, sharded tables, event queue, consumers and metrics.

`open_services` opens them in dependency order from a `ServicesConfig`, and
`Services.close` closes them in reverse: consumers first, so no event is left half
processed, then the queue, then the shards. Every server variant serves the route
table `Services.routes` builds.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import socket
from pathlib import Path

from targets.app.endpoints import Endpoints
from targets.app.events import EventEndpoints
from targets.app.metrics import Metrics
from targets.app.routes import RequestRoute, Route, RouteTable
from targets.app.users import UserEndpoints
from targets.codecs.base import Codec
from targets.errors import TargetConfigError
from targets.queue import (
    DEFAULT_MAX_DEPTH,
    DEFAULT_QUEUE,
    DEFAULT_QUEUE_NAME,
    EnqueueNotifier,
    EventQueue,
    check_queue,
    create_consumer,
    open_queue,
)
from targets.queue.base import DEFAULT_BATCH, DEFAULT_LEASE_S
from targets.routing import DEFAULT_ROUTER
from targets.routing.keyspace import Keyspace
from targets.storage.base import Storage
from targets.storage.directory import check_db, is_postgres, redact_dsn
from targets.storage.sharded import ShardedStore
from targets.storage.sqlite import open_sqlite_storage, shard_path
from targets.storage.sqlite.users import SqliteShardedStore
from targets.storage.sqlite.writer import DEFAULT_MAX_BATCH

logger = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class ServicesConfig:
    """Settings of the target's data and events: stores, routing, queue and metrics.

    Attributes:
        db: `sqlite`, or PostgreSQL URLs (see `targets.storage.directory`).
        router: shard router name (`jump`, `modulo`, `rendezvous`, `ring`).
        placement: regions mapped to shard groups (see `targets.routing.placement`);
            empty for none.
        queue: `sqlite` (the shard outbox) or a `redis://` URL.
        queue_name: Redis stream name; unused by the outbox.
        queue_max_depth: unprocessed events at which `POST /events` gets 503.
        consumers: in-process queue consumers; 0 leaves it to `perfgate consume`.
        queue_lease_s: how long a consumer may hold an event unfinished before another
            one takes it over.
        queue_batch: events a consumer takes at once (per shard for the outbox).
        shard_timeout_ms: maximum wait for one shard, per query or scatter-gather leg.
        group_commit: let each SQLite shard's writer commit concurrent writes together;
            off, every write commits alone.
        pool_size: connections per PostgreSQL shard pool.
        metrics: record requests and latency per route; `/metrics` exists either way.
    """

    db: str = "sqlite"
    router: str = DEFAULT_ROUTER
    placement: str = ""
    queue: str = DEFAULT_QUEUE
    queue_name: str = DEFAULT_QUEUE_NAME
    queue_max_depth: int = DEFAULT_MAX_DEPTH
    consumers: int = 1
    queue_lease_s: float = DEFAULT_LEASE_S
    queue_batch: int = DEFAULT_BATCH
    shard_timeout_ms: int = 1000
    group_commit: bool = True
    pool_size: int = 8
    metrics: bool = True

    @property
    def shard_timeout_s(self) -> float:
        """`shard_timeout_ms` in seconds."""
        return self.shard_timeout_ms / 1000.0

    def describe_db(self) -> str:
        """Return `db` with any password hidden, safe for logs and result files."""
        return redact_dsn(self.db)


def validate_services(config: ServicesConfig, shards: int) -> Keyspace:
    """Check every setting of `config` for `shards` shards and return the keyspace.

    Raises:
        TargetConfigError: names the invalid value and what to pass instead.
    """
    check_db(config.db)
    check_queue(config.queue)
    if config.queue_max_depth < 1:
        raise TargetConfigError(
            f"queue max depth must be at least 1, got {config.queue_max_depth!r}"
        )
    if config.consumers < 0:
        raise TargetConfigError(f"consumer count must be 0 or more, got {config.consumers!r}")
    if config.shard_timeout_ms < 1:
        raise TargetConfigError(
            f"shard timeout must be at least 1 ms, got {config.shard_timeout_ms!r}"
        )
    if config.queue_lease_s <= 0:
        raise TargetConfigError(f"queue lease must be above 0 s, got {config.queue_lease_s!r}")
    if config.queue_batch < 1:
        raise TargetConfigError(f"queue batch must be at least 1, got {config.queue_batch!r}")
    if config.pool_size < 1:
        raise TargetConfigError(f"pool size must be at least 1, got {config.pool_size!r}")
    return Keyspace(shards, config.router, config.placement)


@dataclasses.dataclass
class Services:
    """The open services of one target process."""

    config: ServicesConfig
    keyspace: Keyspace
    storage: Storage
    store: ShardedStore
    queue: EventQueue
    metrics: Metrics
    exit_stack: contextlib.AsyncExitStack

    def routes(self, codec: Codec) -> RouteTable:
        """Build the route table: the TechEmpower endpoints, users, events and `/metrics`."""
        users = UserEndpoints(codec, self.store, self.metrics, self.config.shard_timeout_s)
        events = EventEndpoints(codec, self.queue, self.keyspace, self.metrics)
        routes: list[Route | RequestRoute] = [
            *Endpoints(codec, self.storage).routes(),
            *users.routes(),
            *events.routes(),
            self.metrics.route(),
        ]
        if self.config.metrics:
            routes = [self.metrics.instrument(route) for route in routes]
        return RouteTable(routes)

    async def close(self) -> None:
        """Stop the consumers, then close the queue, the sharded tables and storage."""
        await self.exit_stack.aclose()


async def open_services(
    config: ServicesConfig,
    shards: int,
    data_dir: Path,
    sqlite_mode: str,
    *,
    serves_requests: bool = True,
) -> Services:
    """Open storage, the sharded tables, the queue and the consumers, creating shards if needed.

    When `serves_requests` is true, this process enqueues events itself, so its outbox
    consumers wait for those enqueues. Otherwise they poll the outbox.

    Raises:
        TargetConfigError: a setting is invalid, or the shards were seeded for
            another layout.
        StorageError: a shard cannot be created, opened or reached.
    """
    keyspace = validate_services(config, shards)
    stack = contextlib.AsyncExitStack()
    try:
        storage, store = await _open_stores(config, keyspace, data_dir, sqlite_mode, stack)
        notifier = EnqueueNotifier() if serves_requests else None
        queue = await open_queue(
            config.queue, store, config.queue_name, config.queue_max_depth, notifier
        )
        stack.push_async_callback(queue.close)
        metrics = Metrics()
        metrics.watch_queue(queue.backlog)
        for index in range(config.consumers):
            consumer = create_consumer(
                config.queue,
                store,
                config.queue_name,
                consumer_name=f"{socket.gethostname()}-{os.getpid()}-{index}",
                lease_s=config.queue_lease_s,
                batch=config.queue_batch,
                notifier=notifier,
            )
            await consumer.start()
            stack.push_async_callback(consumer.stop)
    except BaseException:
        await stack.aclose()
        raise
    logger.info(
        "services open: db %s, router %s, queue %s, %d consumers",
        config.describe_db(),
        config.router,
        redact_dsn(config.queue),
        config.consumers,
    )
    return Services(config, keyspace, storage, store, queue, metrics, stack)


async def _open_stores(
    config: ServicesConfig,
    keyspace: Keyspace,
    data_dir: Path,
    sqlite_mode: str,
    stack: contextlib.AsyncExitStack,
) -> tuple[Storage, ShardedStore]:
    if is_postgres(config.db):
        from targets.storage.postgres import open_postgres_store

        postgres = await open_postgres_store(
            config.db, keyspace, pool_size=config.pool_size, timeout_s=config.shard_timeout_s
        )
        stack.push_async_callback(postgres.close)
        return postgres, postgres

    storage = await open_sqlite_storage(data_dir, keyspace.shards, sqlite_mode, keyspace)
    stack.push_async_callback(storage.close)
    paths = [shard_path(data_dir, index) for index in range(keyspace.shards)]
    max_batch = DEFAULT_MAX_BATCH if config.group_commit else 1
    store = await SqliteShardedStore.open(paths, keyspace, max_batch)
    stack.push_async_callback(store.close)
    return storage, store
