"""The event endpoints: accept an event into the queue, and report its status.

- `POST /events` with `{"kind": str, "user_id": int, ...}` validates the body, stores
  the event durably in the queue and only then responds `202 Accepted` with
  `Location: /events/{id}`; processing happens later, in a consumer. A full queue
  or an unavailable shard gets 503 with `Retry-After`.
- `GET /events/{id}` returns `{"id", "status"}`, the status being `queued`,
  `processing`, `done` or `failed` (the user does not exist).
"""

from __future__ import annotations

import logging
import time
from http import HTTPStatus

from targets.app.bodies import (
    BodyError,
    NewEvent,
    decode_body,
    error_response,
    json_response,
    unavailable_response,
)
from targets.app.metrics import Metrics
from targets.app.routes import Request, RequestRoute
from targets.codecs.base import Codec
from targets.errors import QueueFullError, ShardUnavailableError, StorageError
from targets.http.response import NOT_FOUND, Response
from targets.queue.base import EventQueue
from targets.routing.keyspace import Keyspace
from targets.storage.records import Event, event_user_id, new_event_id

logger = logging.getLogger(__name__)


class EventEndpoints:
    """Handlers for `/events` and `/events/{id}` on an event queue."""

    def __init__(
        self, codec: Codec, queue: EventQueue, keyspace: Keyspace, metrics: Metrics
    ) -> None:
        """Queue events in `queue`; `keyspace` names the shard each one touches."""
        self._codec = codec
        self._queue = queue
        self._keyspace = keyspace
        self._metrics = metrics

    def routes(self) -> list[RequestRoute]:
        """Return the routes of `/events` and `/events/{id}`."""
        return [
            RequestRoute(b"/events", frozenset({b"POST"}), self.create_event),
            RequestRoute(b"/events/", frozenset({b"GET"}), self.read_event, prefix=True),
        ]

    async def create_event(self, request: Request) -> Response:
        """Validate and queue one event, then respond 202 with its location."""
        try:
            new_event = decode_body(request.body, NewEvent, self._codec)
        except BodyError as exc:
            return error_response(self._codec, exc.status, str(exc))

        event = Event(
            id=new_event_id(new_event.user_id),
            kind=new_event.kind,
            user_id=new_event.user_id,
            payload=request.body.decode("utf-8"),
            enqueued_at=time.time(),
        )
        shard = self._keyspace.shard_for_id(event.user_id)
        self._metrics.count_query(shard, "enqueue")
        try:
            await self._queue.enqueue(event)
        except QueueFullError as exc:
            logger.warning("responded 503: %s", exc)
            return unavailable_response(self._codec, f"{exc}; retry later", exc.retry_after_s)
        except ShardUnavailableError as exc:
            self._metrics.count_unavailable(exc.shard)
            logger.warning("responded 503: %s", exc)
            return unavailable_response(self._codec, f"{exc}; retry later")
        except StorageError as exc:
            logger.warning("responded 503: queueing event %s failed: %s", event.id, exc)
            return unavailable_response(self._codec, "event queue is unavailable; retry later")

        location = (b"Location", f"/events/{event.id}".encode("ascii"))
        body = {"id": event.id, "status": "queued"}
        return json_response(self._codec, HTTPStatus.ACCEPTED, body, (location,))

    async def read_event(self, request: Request) -> Response:
        """Return the status of one event; 404 for an unknown or malformed id."""
        event_id = request.path_tail.decode("latin-1")
        user_id = event_user_id(event_id)
        if user_id is None:
            return NOT_FOUND
        shard = self._keyspace.shard_for_id(user_id)
        self._metrics.count_query(shard, "event_status")
        try:
            status = await self._queue.read_status(event_id, user_id)
        except ShardUnavailableError as exc:
            self._metrics.count_unavailable(exc.shard)
            return unavailable_response(self._codec, f"{exc}; retry later")
        except StorageError as exc:
            logger.warning("responded 503: reading event %s failed: %s", event_id, exc)
            return unavailable_response(self._codec, "event status is unavailable; retry later")
        if status is None:
            return error_response(self._codec, HTTPStatus.NOT_FOUND, f"event {event_id} not found")
        return json_response(self._codec, HTTPStatus.OK, {"id": event_id, "status": status.value})
