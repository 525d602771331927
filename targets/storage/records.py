"""Rows of the sharded tables: users, queued events and the outcome of processing one."""

from __future__ import annotations

import dataclasses
import enum
import re
import secrets

_EVENT_ID = re.compile(r"([1-9][0-9]{0,18})-([0-9a-f]{16})")


@dataclasses.dataclass(frozen=True, slots=True)
class User:
    """One user row.

    Attributes:
        id: the primary key; it also picks the user's shard.
        name: display name.
        region: the region the placement maps to a shard group.
        events: how many events were processed for this user, each counted once.
    """

    id: int
    name: str
    region: str
    events: int = 0

    def to_json(self) -> dict[str, object]:
        """Return the user as the JSON object the endpoints send."""
        return {"id": self.id, "name": self.name, "region": self.region, "events": self.events}


class EventStatus(enum.Enum):
    """Stage of an event in the queue: queued, then processing, then done or failed."""

    QUEUED = "queued"
    PROCESSING = "processing"
    DONE = "done"
    FAILED = "failed"


@dataclasses.dataclass(frozen=True, slots=True)
class Event:
    """One event accepted by `POST /events`.

    Attributes:
        id: `{user_id}-{16 hex digits}`; the user id in it locates the event's shard.
        kind: what happened, as the client named it.
        user_id: the user the event applies to.
        payload: the whole request body as JSON text, kept for the consumer.
        enqueued_at: wall-clock time of acceptance, in seconds since the epoch.
    """

    id: str
    kind: str
    user_id: int
    payload: str
    enqueued_at: float


def new_event_id(user_id: int) -> str:
    """Make a new event id for `user_id`: the user id, a dash and 64 random bits in hex."""
    return f"{user_id}-{secrets.token_hex(8)}"


def event_user_id(event_id: str) -> int | None:
    """Return the user id inside `event_id`, or `None` if it is not a valid event id."""
    match = _EVENT_ID.fullmatch(event_id)
    if match is None:
        return None
    return int(match.group(1))
