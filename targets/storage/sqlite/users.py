"""The sharded tables on SQLite: users, the event outbox and processed events.

Writes go through each shard's `GroupCommitWriter`. Reads run on the event loop
thread on one read connection per shard, which WAL lets read while the writer commits.

NOTE: these reads always run inline, whatever the value of `--sqlite-mode`; that option
chooses the read path of the `world` and `fortune` tables only.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Sequence
from pathlib import Path

from targets.errors import DuplicateKeyError, StorageError
from targets.routing.keyspace import Keyspace
from targets.storage.records import Event, EventStatus, User
from targets.storage.sqlite.layout import connect
from targets.storage.sqlite.writer import DEFAULT_MAX_BATCH, GroupCommitWriter

SCHEMA = (
    "CREATE TABLE IF NOT EXISTS users (id INTEGER PRIMARY KEY, name TEXT NOT NULL,"
    " region TEXT NOT NULL, events INTEGER NOT NULL DEFAULT 0)",
    "CREATE INDEX IF NOT EXISTS users_region_id ON users (region, id)",
    "CREATE TABLE IF NOT EXISTS outbox (id TEXT PRIMARY KEY, user_id INTEGER NOT NULL,"
    " kind TEXT NOT NULL, payload TEXT NOT NULL, status TEXT NOT NULL,"
    " enqueued_at REAL NOT NULL, claimed_at REAL)",
    "CREATE INDEX IF NOT EXISTS outbox_status ON outbox (status, enqueued_at)",
    "CREATE TABLE IF NOT EXISTS applied_events (event_id TEXT PRIMARY KEY,"
    " user_id INTEGER NOT NULL, kind TEXT NOT NULL, outcome TEXT NOT NULL)",
)

_INSERT_USER = "INSERT INTO users (id, name, region) VALUES (?, ?, ?)"
_SELECT_USER = "SELECT id, name, region, events FROM users WHERE id = ?"
_LIST_USERS = "SELECT id, name, region, events FROM users WHERE region = ? ORDER BY id LIMIT ?"
_INSERT_EVENT = (
    "INSERT INTO outbox (id, user_id, kind, payload, status, enqueued_at)"
    " VALUES (?, ?, ?, ?, 'queued', ?)"
)
_SELECT_EVENT_STATUS = "SELECT status FROM outbox WHERE id = ?"
_SELECT_OUTCOME = "SELECT outcome FROM applied_events WHERE event_id = ?"
_CLAIM_EVENTS = (
    "UPDATE outbox SET status = 'processing', claimed_at = ?"
    " WHERE id IN (SELECT id FROM outbox WHERE status = 'queued'"
    " OR (status = 'processing' AND claimed_at < ?) ORDER BY enqueued_at LIMIT ?)"
    " RETURNING id, kind, user_id, payload, enqueued_at"
)
_COUNT_EVENT = "UPDATE users SET events = events + 1 WHERE id = ?"
_INSERT_OUTCOME = (
    "INSERT INTO applied_events (event_id, user_id, kind, outcome) VALUES (?, ?, ?, ?)"
)
_FINISH_EVENT = "UPDATE outbox SET status = ? WHERE id = ?"
_BACKLOG = "SELECT count(*), min(enqueued_at) FROM outbox WHERE status IN ('queued', 'processing')"
_COUNT_OUTCOMES = "SELECT outcome, count(*) FROM applied_events GROUP BY outcome"


def create_schema(connection: sqlite3.Connection) -> None:
    """Create the sharded tables on one shard if they are missing."""
    for statement in SCHEMA:
        connection.execute(statement)


class SqliteShardedStore:
    """Users and events on SQLite shard files, with one group-commit writer per shard."""

    def __init__(
        self,
        paths: Sequence[Path],
        keyspace: Keyspace,
        writers: Sequence[GroupCommitWriter],
    ) -> None:
        """Use already open writers, in shard order; see `open`."""
        self._keyspace = keyspace
        self._writers = list(writers)
        self._readers: list[sqlite3.Connection] = []
        try:
            for path in paths:
                self._readers.append(connect(path))
        except BaseException:
            self._close_readers()
            raise

    @classmethod
    async def open(
        cls, paths: Sequence[Path], keyspace: Keyspace, max_batch: int = DEFAULT_MAX_BATCH
    ) -> SqliteShardedStore:
        """Open the shard files, creating the sharded tables where they are missing.

        Args:
            paths: shard files in shard order, already seeded by `init_shards`.
            keyspace: the keyspace the files were seeded for.
            max_batch: maximum writes per commit; 1 commits every write alone.

        Raises:
            StorageError: a file cannot be opened or its tables created.
        """
        if len(paths) != keyspace.shards:
            raise StorageError(f"{len(paths)} shard files for a {keyspace.shards}-shard keyspace")
        writers: list[GroupCommitWriter] = []
        try:
            for path in paths:
                writer = GroupCommitWriter(path, max_batch)
                writers.append(writer)
                await writer.write(create_schema)
            return cls(paths, keyspace, writers)
        except BaseException:
            for writer in writers:
                await writer.close()
            raise

    @property
    def keyspace(self) -> Keyspace:
        """The keyspace that maps ids to shards."""
        return self._keyspace

    @property
    def writers(self) -> list[GroupCommitWriter]:
        """The writer of each shard, in shard order."""
        return list(self._writers)

    async def insert_user(self, user: User) -> int:
        """Insert `user` on its shard, committed with concurrent writes, and return the shard."""
        shard = self._keyspace.shard_for_id(user.id)

        def insert(connection: sqlite3.Connection) -> None:
            connection.execute(_INSERT_USER, (user.id, user.name, user.region))

        try:
            await self._writers[shard].write(insert)
        except sqlite3.IntegrityError:
            raise DuplicateKeyError(f"user {user.id} exists already") from None
        except sqlite3.Error as exc:
            raise StorageError(f"inserting user {user.id} on shard {shard} failed: {exc}") from exc
        return shard

    async def read_user(self, user_id: int) -> User | None:
        """Read one user from its shard."""
        shard = self._keyspace.shard_for_id(user_id)
        row = self._read(shard, _SELECT_USER, (user_id,)).fetchone()
        return None if row is None else User(*row)

    async def list_users(self, shard: int, region: str, limit: int) -> list[User]:
        """Read up to `limit` users of `region` from one shard, in ascending id order."""
        rows = self._read(shard, _LIST_USERS, (region, limit)).fetchall()
        return [User(*row) for row in rows]

    async def add_event(self, event: Event) -> None:
        """Add `event` to the outbox of its user's shard, queued."""
        shard = self._keyspace.shard_for_id(event.user_id)
        parameters = (event.id, event.user_id, event.kind, event.payload, event.enqueued_at)

        def insert(connection: sqlite3.Connection) -> None:
            connection.execute(_INSERT_EVENT, parameters)

        try:
            await self._writers[shard].write(insert)
        except sqlite3.IntegrityError:
            raise DuplicateKeyError(f"event {event.id} exists already") from None
        except sqlite3.Error as exc:
            raise StorageError(f"queueing event {event.id} failed: {exc}") from exc

    async def read_event_status(self, event_id: str, user_id: int) -> EventStatus | None:
        """Return the event's outbox status, or its recorded outcome, or `None`."""
        shard = self._keyspace.shard_for_id(user_id)
        row = self._read(shard, _SELECT_EVENT_STATUS, (event_id,)).fetchone()
        if row is None:
            row = self._read(shard, _SELECT_OUTCOME, (event_id,)).fetchone()
        return None if row is None else EventStatus(row[0])

    async def claim_events(self, shard: int, limit: int, lease_s: float) -> list[Event]:
        """Mark up to `limit` queued or expired outbox events `processing` and return them."""

        def claim(connection: sqlite3.Connection) -> list[Event]:
            now = time.time()
            rows = connection.execute(_CLAIM_EVENTS, (now, now - lease_s, limit)).fetchall()
            events = [Event(row[0], row[1], row[2], row[3], row[4]) for row in rows]
            events.sort(key=_enqueued_at)
            return events

        try:
            result: list[Event] = await self._writers[shard].write(claim)
        except sqlite3.Error as exc:
            raise StorageError(f"claiming events on shard {shard} failed: {exc}") from exc
        return result

    async def apply_event(self, event: Event) -> EventStatus:
        """Process `event` once in effect on its user's shard; see `ShardedStore`."""
        shard = self._keyspace.shard_for_id(event.user_id)

        def apply(connection: sqlite3.Connection) -> str:
            row = connection.execute(_SELECT_OUTCOME, (event.id,)).fetchone()
            if row is not None:
                outcome = str(row[0])
            else:
                counted = connection.execute(_COUNT_EVENT, (event.user_id,)).rowcount
                outcome = EventStatus.DONE.value if counted else EventStatus.FAILED.value
                connection.execute(_INSERT_OUTCOME, (event.id, event.user_id, event.kind, outcome))
            connection.execute(_FINISH_EVENT, (outcome, event.id))
            return outcome

        try:
            outcome: str = await self._writers[shard].write(apply)
        except sqlite3.Error as exc:
            raise StorageError(f"processing event {event.id} failed: {exc}") from exc
        return EventStatus(outcome)

    async def outbox_backlog(self, shard: int) -> tuple[int, float | None]:
        """Return the shard's unprocessed outbox events and the enqueue time of the oldest."""
        count, oldest = self._read(shard, _BACKLOG, ()).fetchone()
        return int(count), None if oldest is None else float(oldest)

    async def count_applied(self) -> dict[str, int]:
        """Count processed events on every shard by outcome."""
        totals: dict[str, int] = {}
        for shard in range(len(self._readers)):
            for outcome, count in self._read(shard, _COUNT_OUTCOMES, ()).fetchall():
                totals[outcome] = totals.get(outcome, 0) + count
        return totals

    async def close(self) -> None:
        """Commit the queued writes, then close every writer and read connection."""
        for writer in self._writers:
            await writer.close()
        self._close_readers()

    def _read(self, shard: int, sql: str, parameters: tuple[object, ...]) -> sqlite3.Cursor:
        if not self._readers:
            raise StorageError("the SQLite shards are closed")
        try:
            return self._readers[shard].execute(sql, parameters)
        except sqlite3.Error as exc:
            raise StorageError(f"query on shard {shard} failed: {exc}") from exc

    def _close_readers(self) -> None:
        for connection in self._readers:
            connection.close()
        self._readers = []


def _enqueued_at(event: Event) -> float:
    return event.enqueued_at
