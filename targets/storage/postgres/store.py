"""PostgreSQL shards behind both storage interfaces: the TechEmpower tables and the sharded ones.

One asyncpg pool per shard, its connections opened with the shard's schema on the
search path, so every shard runs the same statement texts. asyncpg prepares each
statement on first use on a connection and caches it, so a repeated query costs one
round trip with no parsing.

Every call on a shard is bounded by `timeout_s`, from acquiring a connection to the
last row. A timeout or a lost connection opens that shard's `ShardBreaker` and
raises `ShardUnavailableError`; other shards keep serving. A connection cut off by a
timeout goes back to its pool, which resets it or closes it within the same bound.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

import asyncpg

from targets.errors import DuplicateKeyError, ShardUnavailableError, StorageError
from targets.routing.keyspace import Keyspace
from targets.storage.base import FortuneRow, WorldRow, assign_new_numbers
from targets.storage.breaker import ShardBreaker
from targets.storage.directory import ShardPlacement
from targets.storage.records import Event, EventStatus, User
from targets.storage.sqlite.layout import FORTUNE_SHARD

logger = logging.getLogger(__name__)

BREAKER_MIN_COOLDOWN_S = 1.0

T = TypeVar("T")
Operation = Callable[[asyncpg.pool.PoolConnectionProxy], Awaitable[T]]

DEFAULT_POOL_SIZE = 8
DEFAULT_TIMEOUT_S = 1.0

_SELECT_WORLD = "SELECT id, randomnumber FROM world WHERE id = $1"
_UPDATE_WORLD = "UPDATE world SET randomnumber = $2 WHERE id = $1"
_SELECT_FORTUNES = "SELECT id, message FROM fortune"
_INSERT_USER = "INSERT INTO users (id, name, region) VALUES ($1, $2, $3)"
_SELECT_USER = "SELECT id, name, region, events FROM users WHERE id = $1"
_LIST_USERS = "SELECT id, name, region, events FROM users WHERE region = $1 ORDER BY id LIMIT $2"
_INSERT_EVENT = (
    "INSERT INTO outbox (id, user_id, kind, payload, status, enqueued_at)"
    " VALUES ($1, $2, $3, $4, 'queued', $5)"
)
_SELECT_EVENT_STATUS = "SELECT status FROM outbox WHERE id = $1"
_SELECT_OUTCOME = "SELECT outcome FROM applied_events WHERE event_id = $1"
_CLAIM_EVENTS = (
    "UPDATE outbox SET status = 'processing', claimed_at = $1"
    " WHERE id IN (SELECT id FROM outbox WHERE status = 'queued'"
    " OR (status = 'processing' AND claimed_at < $2)"
    " ORDER BY enqueued_at LIMIT $3 FOR UPDATE SKIP LOCKED)"
    " RETURNING id, kind, user_id, payload, enqueued_at"
)
# Two consumers racing on one event: the second insert waits for the first to commit,
# then does nothing, and that consumer reads the outcome the first one recorded.
_RECORD_OUTCOME = (
    "INSERT INTO applied_events (event_id, user_id, kind, outcome)"
    " SELECT $1, $2, $3, CASE WHEN EXISTS (SELECT 1 FROM users WHERE id = $2)"
    " THEN 'done' ELSE 'failed' END"
    " ON CONFLICT (event_id) DO NOTHING RETURNING outcome"
)
_COUNT_EVENT = "UPDATE users SET events = events + 1 WHERE id = $1"
_FINISH_EVENT = "UPDATE outbox SET status = $1 WHERE id = $2"
_BACKLOG = "SELECT count(*), min(enqueued_at) FROM outbox WHERE status IN ('queued', 'processing')"
_COUNT_OUTCOMES = "SELECT outcome, count(*) FROM applied_events GROUP BY outcome"


class PostgresStore:
    """Shards in PostgreSQL, one pool each; implements `Storage` and `ShardedStore`."""

    def __init__(
        self,
        placements: Sequence[ShardPlacement],
        pools: Sequence[asyncpg.Pool],
        keyspace: Keyspace,
        timeout_s: float,
    ) -> None:
        """Use open pools, in shard order; see `open`."""
        self._placements = list(placements)
        self._pools = list(pools)
        self._keyspace = keyspace
        self._timeout_s = timeout_s
        # A cooldown as short as the timeout could end before the next request arrives
        # when the failing request took longer than one timeout, so it is at least the
        # 1 s that the 503's Retry-After tells clients to wait.
        cooldown_s = max(timeout_s, BREAKER_MIN_COOLDOWN_S)
        self._breakers = [ShardBreaker(cooldown_s=cooldown_s) for _ in pools]
        self._open = True

    @classmethod
    async def open(
        cls,
        placements: Sequence[ShardPlacement],
        keyspace: Keyspace,
        *,
        pool_size: int = DEFAULT_POOL_SIZE,
        timeout_s: float = DEFAULT_TIMEOUT_S,
    ) -> PostgresStore:
        """Open one pool per shard; each pool connects once to check that the shard is reachable.

        Raises:
            StorageError: a shard cannot be reached; the message hides any password.
        """
        pools: list[asyncpg.Pool] = []
        try:
            for placement in placements:
                pools.append(await _create_pool(placement, pool_size))
        except BaseException:
            for pool in pools:
                pool.terminate()
            raise
        logger.info("opened %d PostgreSQL shard pools of %d connections", len(pools), pool_size)
        return cls(placements, pools, keyspace, timeout_s)

    @property
    def keyspace(self) -> Keyspace:
        """The keyspace that maps ids to shards."""
        return self._keyspace

    @property
    def is_open(self) -> bool:
        """Whether the pools are open."""
        return self._open

    def pool(self, shard: int) -> asyncpg.Pool:
        """Return the pool of one shard."""
        return self._pools[shard]

    async def run(self, shard: int, operation: Operation[T]) -> T:
        """Run `operation` on a connection of `shard`, bounded by the timeout.

        Raises:
            ShardUnavailableError: the shard's breaker is open, the call timed out or
                the connection failed.
            StorageError: the shards are closed, or PostgreSQL reported an error.
        """
        if not self._open:
            raise StorageError("the PostgreSQL shards are closed")
        breaker = self._breakers[shard]
        if breaker.is_open:
            raise ShardUnavailableError(shard, f"failing fast after: {breaker.last_error}")
        try:
            async with asyncio.timeout(self._timeout_s):
                async with self._pools[shard].acquire(timeout=self._timeout_s) as connection:
                    result = await operation(connection)
        except TimeoutError:
            raise self._failed(shard, f"timed out after {self._timeout_s * 1000:.0f} ms") from None
        except (OSError, asyncpg.PostgresConnectionError, asyncpg.InterfaceError) as exc:
            raise self._failed(shard, f"connection failed: {exc}") from exc
        breaker.record_success()
        return result

    # The TechEmpower tables

    async def read_world(self, world_id: int) -> WorldRow:
        """Read one `world` row from its shard."""
        row = await self.run(
            self._keyspace.shard_for_id(world_id),
            lambda connection: connection.fetchrow(_SELECT_WORLD, world_id),
        )
        if row is None:
            raise StorageError(f"world row {world_id} not found: run `perfgate db init`")
        return row[0], row[1]

    async def read_worlds(self, world_ids: Sequence[int]) -> list[WorldRow]:
        """Read `world` rows one point query at a time, in the order given."""
        return [await self.read_world(world_id) for world_id in world_ids]

    async def update_worlds(self, world_ids: Sequence[int]) -> list[WorldRow]:
        """Read the rows, then write new numbers in one transaction per shard."""
        rows = assign_new_numbers(await self.read_worlds(world_ids))
        latest = dict(rows)
        by_shard: dict[int, list[tuple[int, int]]] = {}
        for world_id, number in sorted(latest.items()):
            by_shard.setdefault(self._keyspace.shard_for_id(world_id), []).append(
                (world_id, number)
            )
        for shard, batch in by_shard.items():
            await self.run(shard, functools.partial(_update_worlds, rows=batch))
        return rows

    async def read_fortunes(self) -> list[FortuneRow]:
        """Read every fortune from the fortune shard."""
        rows = await self.run(FORTUNE_SHARD, lambda connection: connection.fetch(_SELECT_FORTUNES))
        return [(row[0], row[1]) for row in rows]

    # The sharded tables

    async def insert_user(self, user: User) -> int:
        """Insert `user` on its shard, committed before returning, and return the shard."""
        shard = self._keyspace.shard_for_id(user.id)
        try:
            await self.run(
                shard,
                lambda connection: connection.execute(
                    _INSERT_USER, user.id, user.name, user.region
                ),
            )
        except asyncpg.UniqueViolationError:
            raise DuplicateKeyError(f"user {user.id} exists already") from None
        except asyncpg.PostgresError as exc:
            raise StorageError(f"inserting user {user.id} on shard {shard} failed: {exc}") from exc
        return shard

    async def read_user(self, user_id: int) -> User | None:
        """Read one user from its shard."""
        row = await self.run(
            self._keyspace.shard_for_id(user_id),
            lambda connection: connection.fetchrow(_SELECT_USER, user_id),
        )
        return None if row is None else User(row[0], row[1], row[2], row[3])

    async def list_users(self, shard: int, region: str, limit: int) -> list[User]:
        """Read up to `limit` users of `region` from one shard, by ascending id."""
        rows = await self.run(
            shard, lambda connection: connection.fetch(_LIST_USERS, region, limit)
        )
        return [User(row[0], row[1], row[2], row[3]) for row in rows]

    async def add_event(self, event: Event) -> None:
        """Add `event` to the outbox of its user's shard, queued."""
        shard = self._keyspace.shard_for_id(event.user_id)
        arguments = (event.id, event.user_id, event.kind, event.payload, event.enqueued_at)
        try:
            await self.run(shard, lambda connection: connection.execute(_INSERT_EVENT, *arguments))
        except asyncpg.UniqueViolationError:
            raise DuplicateKeyError(f"event {event.id} exists already") from None

    async def read_event_status(self, event_id: str, user_id: int) -> EventStatus | None:
        """Return the event's outbox status, or its recorded outcome, or `None`."""

        async def read(connection: asyncpg.pool.PoolConnectionProxy) -> str | None:
            status: str | None = await connection.fetchval(_SELECT_EVENT_STATUS, event_id)
            if status is None:
                status = await connection.fetchval(_SELECT_OUTCOME, event_id)
            return status

        status = await self.run(self._keyspace.shard_for_id(user_id), read)
        return None if status is None else EventStatus(status)

    async def claim_events(self, shard: int, limit: int, lease_s: float) -> list[Event]:
        """Mark up to `limit` queued or expired outbox events `processing` and return them."""
        now = time.time()
        rows = await self.run(
            shard, lambda connection: connection.fetch(_CLAIM_EVENTS, now, now - lease_s, limit)
        )
        events = [Event(row[0], row[1], row[2], row[3], row[4]) for row in rows]
        events.sort(key=lambda event: event.enqueued_at)
        return events

    async def apply_event(self, event: Event) -> EventStatus:
        """Process `event` once in effect on its user's shard; see `ShardedStore`."""

        async def apply(connection: asyncpg.pool.PoolConnectionProxy) -> str:
            async with connection.transaction():
                outcome: str | None = await connection.fetchval(
                    _RECORD_OUTCOME, event.id, event.user_id, event.kind
                )
                if outcome == EventStatus.DONE.value:
                    await connection.execute(_COUNT_EVENT, event.user_id)
                elif outcome is None:
                    outcome = str(await connection.fetchval(_SELECT_OUTCOME, event.id))
                await connection.execute(_FINISH_EVENT, outcome, event.id)
            return outcome

        return EventStatus(await self.run(self._keyspace.shard_for_id(event.user_id), apply))

    async def outbox_backlog(self, shard: int) -> tuple[int, float | None]:
        """Return the shard's unprocessed outbox events and the enqueue time of the oldest."""
        row = await self.run(shard, lambda connection: connection.fetchrow(_BACKLOG))
        assert row is not None  # an aggregate without GROUP BY returns one row
        return int(row[0]), None if row[1] is None else float(row[1])

    async def count_applied(self) -> dict[str, int]:
        """Count processed events on every shard by outcome."""
        totals: dict[str, int] = {}
        for shard in range(len(self._pools)):
            rows = await self.run(shard, lambda connection: connection.fetch(_COUNT_OUTCOMES))
            for row in rows:
                totals[row[0]] = totals.get(row[0], 0) + int(row[1])
        return totals

    async def close(self) -> None:
        """Close every pool, waiting for the connections in use, bounded by 10 s each."""
        if not self._open:
            return
        self._open = False
        for pool in self._pools:
            try:
                await asyncio.wait_for(pool.close(), timeout=10.0)
            except TimeoutError:
                logger.warning("closing a shard pool timed out; terminating its connections")
                pool.terminate()

    def _failed(self, shard: int, reason: str) -> ShardUnavailableError:
        self._breakers[shard].record_failure(reason)
        logger.warning(
            "shard %d at %s is unavailable: %s",
            shard,
            self._placements[shard].redacted_dsn,
            reason,
        )
        return ShardUnavailableError(shard, reason)


async def _create_pool(placement: ShardPlacement, pool_size: int) -> asyncpg.Pool:
    try:
        pool = await asyncpg.create_pool(
            placement.dsn,
            min_size=1,
            max_size=pool_size,
            timeout=10.0,
            server_settings={"search_path": placement.schema},
        )
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        raise StorageError(
            f"cannot connect to shard {placement.shard} at {placement.redacted_dsn}: {exc}"
        ) from exc
    assert pool is not None  # create_pool returns the pool once initialized
    return pool


async def _update_worlds(
    connection: asyncpg.pool.PoolConnectionProxy, rows: Sequence[tuple[int, int]]
) -> None:
    async with connection.transaction():
        await connection.executemany(_UPDATE_WORLD, rows)
