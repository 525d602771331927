"""Rules of the event queue endpoints: `POST /events` and `GET /events/{id}`.

They run only when the service routes `/events`. Each run queues a few events of
kind `perfgate-verify`.
"""

from __future__ import annotations

from perfgate.verify.expect import expect_common_headers, expect_json, expect_status
from perfgate.verify.model import RuleViolationError
from perfgate.verify.registry import Endpoint, Probe, route_exists, rule

EVENT_STATUSES = frozenset({"queued", "processing", "done", "failed"})
VERIFY_KIND = "perfgate-verify"

EVENTS = Endpoint("/events", optional=True, exists=route_exists("POST", "/events", json={}))


def _queue_event(probe: Probe) -> str:
    created = probe.post("/users", json={"name": "perfgate-verify", "region": "eu"})
    expect_status(created, 201)
    user_id = expect_json(created)
    if not isinstance(user_id, dict):
        raise RuleViolationError(f"expected POST /users to return an object, got {user_id!r}")
    response = probe.post("/events", json={"kind": VERIFY_KIND, "user_id": user_id["id"]})
    expect_status(response, 202)
    expect_common_headers(response)
    location: str | None = response.headers.get("location")
    if location is None or not location.startswith("/events/"):
        raise RuleViolationError(f"expected Location: /events/{{id}}, got {location!r}")
    return location


@rule(EVENTS, "POST /events queues the event: 202 with Location /events/{id}")
def queue_event(probe: Probe) -> None:
    _queue_event(probe)


@rule(EVENTS, "GET /events/{id} reports the status of a queued event")
def event_status(probe: Probe) -> None:
    location = _queue_event(probe)
    response = probe.get(location)
    expect_status(response, 200)
    body = expect_json(response)
    if not isinstance(body, dict) or body.get("status") not in EVENT_STATUSES:
        raise RuleViolationError(f"expected a status among {sorted(EVENT_STATUSES)}, got {body!r}")


@rule(EVENTS, "POST /events rejects a body that breaks the schema with 422")
def invalid_event(probe: Probe) -> None:
    response = probe.post("/events", json={"kind": VERIFY_KIND, "user_id": "seven"})
    expect_status(response, 422)
    if b"user_id" not in response.content:
        raise RuleViolationError(f"expected the error to name user_id, got {response.content!r}")


@rule(EVENTS, "GET /events/{id} gets 404 for an unknown event")
def unknown_event(probe: Probe) -> None:
    expect_status(probe.get("/events/1-0000000000000000"), 404)
