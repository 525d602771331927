"""In-memory sharded tables, with shard faults on demand, for tests of the endpoints."""

from __future__ import annotations

import asyncio
import time

from targets.errors import DuplicateKeyError, ShardUnavailableError
from targets.routing.keyspace import Keyspace
from targets.storage.records import Event, EventStatus, User


class MemoryShardedStore:
    """Keep every shard's users, outbox and outcomes in dicts.

    Tests make a shard fail with `unavailable`, or slow with `delays_s`, to drive the
    scatter-gather and fault paths without a real database.
    """

    def __init__(self, keyspace: Keyspace) -> None:
        """Start with empty shards for `keyspace`."""
        self._keyspace = keyspace
        self.users: list[dict[int, User]] = [{} for _ in range(keyspace.shards)]
        self.outbox: list[dict[str, tuple[Event, EventStatus, float]]] = [
            {} for _ in range(keyspace.shards)
        ]
        self.outcomes: list[dict[str, EventStatus]] = [{} for _ in range(keyspace.shards)]
        self.unavailable: set[int] = set()
        self.delays_s: dict[int, float] = {}

    @property
    def keyspace(self) -> Keyspace:
        """The keyspace that maps ids to shards."""
        return self._keyspace

    async def insert_user(self, user: User) -> int:
        """Insert `user` on its shard and return the shard."""
        shard = await self._enter(self._keyspace.shard_for_id(user.id))
        if user.id in self.users[shard]:
            raise DuplicateKeyError(f"user {user.id} exists already")
        self.users[shard][user.id] = user
        return shard

    async def read_user(self, user_id: int) -> User | None:
        """Read one user from its shard."""
        shard = await self._enter(self._keyspace.shard_for_id(user_id))
        return self.users[shard].get(user_id)

    async def list_users(self, shard: int, region: str, limit: int) -> list[User]:
        """Read up to `limit` users of `region` from one shard, by ascending id."""
        await self._enter(shard)
        matching = sorted(
            (user for user in self.users[shard].values() if user.region == region),
            key=lambda user: user.id,
        )
        return matching[:limit]

    async def add_event(self, event: Event) -> None:
        """Queue `event` in its user's shard's outbox."""
        shard = await self._enter(self._keyspace.shard_for_id(event.user_id))
        if event.id in self.outbox[shard]:
            raise DuplicateKeyError(f"event {event.id} exists already")
        self.outbox[shard][event.id] = (event, EventStatus.QUEUED, 0.0)

    async def read_event_status(self, event_id: str, user_id: int) -> EventStatus | None:
        """Return the event's outbox status or recorded outcome."""
        shard = await self._enter(self._keyspace.shard_for_id(user_id))
        if event_id in self.outbox[shard]:
            return self.outbox[shard][event_id][1]
        return self.outcomes[shard].get(event_id)

    async def claim_events(self, shard: int, limit: int, lease_s: float) -> list[Event]:
        """Claim up to `limit` queued or expired outbox events of one shard."""
        await self._enter(shard)
        now = time.time()
        claimed: list[Event] = []
        for event, status, claimed_at in sorted(
            self.outbox[shard].values(), key=lambda entry: entry[0].enqueued_at
        ):
            if len(claimed) >= limit:
                break
            expired = status is EventStatus.PROCESSING and claimed_at < now - lease_s
            if status is EventStatus.QUEUED or expired:
                self.outbox[shard][event.id] = (event, EventStatus.PROCESSING, now)
                claimed.append(event)
        return claimed

    async def apply_event(self, event: Event) -> EventStatus:
        """Process `event` once in effect."""
        shard = await self._enter(self._keyspace.shard_for_id(event.user_id))
        outcome = self.outcomes[shard].get(event.id)
        if outcome is None:
            user = self.users[shard].get(event.user_id)
            if user is None:
                outcome = EventStatus.FAILED
            else:
                self.users[shard][user.id] = User(user.id, user.name, user.region, user.events + 1)
                outcome = EventStatus.DONE
            self.outcomes[shard][event.id] = outcome
        if event.id in self.outbox[shard]:
            self.outbox[shard][event.id] = (event, outcome, 0.0)
        return outcome

    async def outbox_backlog(self, shard: int) -> tuple[int, float | None]:
        """Count one shard's unprocessed outbox events and find the oldest."""
        waiting = [
            event.enqueued_at
            for event, status, _ in self.outbox[shard].values()
            if status in (EventStatus.QUEUED, EventStatus.PROCESSING)
        ]
        return len(waiting), min(waiting, default=None)

    async def count_applied(self) -> dict[str, int]:
        """Count processed events by outcome."""
        totals: dict[str, int] = {}
        for outcomes in self.outcomes:
            for outcome in outcomes.values():
                totals[outcome.value] = totals.get(outcome.value, 0) + 1
        return totals

    async def close(self) -> None:
        """Do nothing: memory needs no release."""

    async def _enter(self, shard: int) -> int:
        delay_s = self.delays_s.get(shard)
        if delay_s:
            await asyncio.sleep(delay_s)
        if shard in self.unavailable:
            raise ShardUnavailableError(shard, "marked unavailable by the test")
        return shard
