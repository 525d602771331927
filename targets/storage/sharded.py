"""The interface of the sharded tables: users, the event outbox and processed events.

Every method that takes a key touches exactly the one shard the keyspace routes that
key to. `list_users` and the outbox methods take the shard index themselves. In the
SQLite and PostgreSQL stores, a write is durable when it returns, so a crash right
after cannot lose it.

Beside `world` and `fortune`, each shard has three tables:

- `users` (id, name, region, events),
- `outbox`: events accepted for the user's shard but not yet processed, with their
  status, when the event queue is the outbox (`--queue sqlite`),
- `applied_events`: the id and outcome of every processed event. Processing inserts
  here and updates `users.events` in one transaction, and does nothing when the id
  is present already, so an event delivered twice counts once.
"""

from __future__ import annotations

from typing import Protocol

from targets.routing.keyspace import Keyspace
from targets.storage.records import Event, EventStatus, User


class ShardedStore(Protocol):
    """Users and events spread over the shards of one keyspace.

    Methods raise `ShardUnavailableError` when the shard they need timed out or
    cannot be reached, and `StorageError` for any other failure.
    """

    @property
    def keyspace(self) -> Keyspace:
        """The keyspace that maps ids to shards."""
        ...

    async def insert_user(self, user: User) -> int:
        """Insert `user` on its shard and return the shard index.

        Raises:
            DuplicateKeyError: a user with that id exists already.
        """
        ...

    async def read_user(self, user_id: int) -> User | None:
        """Read one user from its shard, or `None` if absent."""
        ...

    async def list_users(self, shard: int, region: str, limit: int) -> list[User]:
        """Read up to `limit` users of `region` from one shard, in ascending id order."""
        ...

    async def add_event(self, event: Event) -> None:
        """Add `event` to its user's shard's outbox with the status `queued`."""
        ...

    async def read_event_status(self, event_id: str, user_id: int) -> EventStatus | None:
        """Return the status of an event in the outbox or among the processed ones."""
        ...

    async def claim_events(self, shard: int, limit: int, lease_s: float) -> list[Event]:
        """Mark up to `limit` outbox events of one shard `processing` and return them.

        Events queued longest are claimed first. An event claimed more than `lease_s`
        seconds ago and still not done is claimed again, so the events of a consumer
        that died are resumed.
        """
        ...

    async def apply_event(self, event: Event) -> EventStatus:
        """Process `event` on its user's shard, at most once in effect, and return the outcome.

        The first call records the event and adds one to the user's `events`, or
        records `failed` when the user does not exist. Later calls for the same id
        change nothing and return the recorded outcome. The outbox row, if any,
        takes the outcome as its status in the same transaction.
        """
        ...

    async def outbox_backlog(self, shard: int) -> tuple[int, float | None]:
        """Return one shard's unprocessed outbox events and the enqueue time of the oldest."""
        ...

    async def count_applied(self) -> dict[str, int]:
        """Count processed events on every shard by outcome (`done`, `failed`)."""
        ...

    async def close(self) -> None:
        """Finish writes in progress and release every connection."""
        ...
