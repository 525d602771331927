"""Rules of the sharded user endpoints: `POST /users`, `GET /users/{id}`, `GET /users?region=`.

They run only when the service routes `/users`. Each run writes a few users named
`perfgate-verify`.
"""

from __future__ import annotations

import secrets

from perfgate.verify.expect import expect_common_headers, expect_json, expect_status
from perfgate.verify.model import RuleViolationError
from perfgate.verify.registry import Endpoint, Probe, route_exists, rule

VERIFY_REGION = "eu"
VERIFY_NAME = "perfgate-verify"

USERS = Endpoint(
    "/users", optional=True, exists=route_exists("GET", f"/users?region={VERIFY_REGION}&limit=1")
)


def _create_user(probe: Probe) -> int:
    response = probe.post("/users", json={"name": VERIFY_NAME, "region": VERIFY_REGION})
    expect_status(response, 201)
    expect_common_headers(response)
    body = expect_json(response)
    if not isinstance(body, dict) or set(body) < {"id", "shard"}:
        raise RuleViolationError(f'expected an object with "id" and "shard", got {body!r}')
    for key in ("id", "shard"):
        if isinstance(body[key], bool) or not isinstance(body[key], int):
            raise RuleViolationError(f"expected {key} to be an integer, got {body[key]!r}")
    user_id: int = body["id"]
    return user_id


@rule(USERS, "POST /users creates a user: 201 with its id and shard")
def create_user(probe: Probe) -> None:
    _create_user(probe)


@rule(USERS, "GET /users/{id} reads back the user just created")
def read_user(probe: Probe) -> None:
    user_id = _create_user(probe)
    response = probe.get(f"/users/{user_id}")
    expect_status(response, 200)
    expect_common_headers(response)
    body = expect_json(response)
    if not isinstance(body, dict):
        raise RuleViolationError(f"expected a JSON object, got {body!r}")
    expected = {"id": user_id, "name": VERIFY_NAME, "region": VERIFY_REGION}
    found = {key: body.get(key) for key in expected}
    if found != expected:
        raise RuleViolationError(f"expected the user {expected!r}, got {body!r}")


@rule(USERS, "GET /users/{id} gets 404 for an absent user")
def absent_user(probe: Probe) -> None:
    # 2**62 plus 62 random bits: an id no test run creates by chance.
    absent_id = (1 << 62) + secrets.randbits(62)
    expect_status(probe.get(f"/users/{absent_id}"), 404)


@rule(USERS, "POST /users rejects a body that breaks the schema with 422 naming the field")
def invalid_user(probe: Probe) -> None:
    response = probe.post("/users", json={"name": 7, "region": VERIFY_REGION})
    expect_status(response, 422)
    if b"name" not in response.content:
        raise RuleViolationError(
            f"expected the error to name the field name, got {response.content!r}"
        )


@rule(USERS, "POST /users rejects invalid JSON and integers beyond 64 bits with 400")
def malformed_user(probe: Probe) -> None:
    bodies = (
        b'{"name": "x", "region": ',
        b'{"name": "x", "region": "eu", "id": 18446744073709551616}',
        b'{"name": "x", "region": "eu", "id": NaN}',
    )
    for body in bodies:
        response = probe.post("/users", content=body, headers={"content-type": "application/json"})
        expect_status(response, 400)


@rule(USERS, "GET /users?region= lists the region's users, merged from every shard")
def list_users(probe: Probe) -> None:
    _create_user(probe)
    response = probe.get(f"/users?region={VERIFY_REGION}&limit=5")
    expect_status(response, 200)
    body = expect_json(response)
    if not isinstance(body, dict) or set(body) < {"users", "partial", "shards"}:
        raise RuleViolationError(
            f'expected an object with "users", "partial" and "shards", got {body!r}'
        )
    users = body["users"]
    if not isinstance(users, list) or not 1 <= len(users) <= 5:
        raise RuleViolationError(f"expected 1 to 5 users with limit=5, got {users!r}")
    if any(not isinstance(user, dict) or user.get("region") != VERIFY_REGION for user in users):
        raise RuleViolationError(f"expected only users of region {VERIFY_REGION!r}, got {users!r}")
    ids = [user.get("id") for user in users]
    if ids != sorted(ids, key=lambda user_id: (user_id is None, user_id or 0)):
        raise RuleViolationError(f"expected users sorted by id, got ids {ids}")
    if not isinstance(body["partial"], bool):
        raise RuleViolationError(f"expected partial to be true or false, got {body['partial']!r}")
    if not isinstance(body["shards"], dict):
        raise RuleViolationError(
            f"expected shards to be an object of timings, got {body['shards']!r}"
        )
