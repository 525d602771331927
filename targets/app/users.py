"""The user endpoints: a write and a point read on one shard, and a scatter-gather list.

- `POST /users` writes the user to the shard its id routes to: 201 `{"id", "shard"}`.
- `GET /users/{id}` reads that one shard: 200 with the user, or 404.
- `GET /users?region=R&limit=K` queries every shard at once for its first K users of R
  by id, waits for each at most the shard timeout, and merges the results by id. The
  result is the one an unsharded table gives, unless a shard timed out; then
  `partial` is true and that shard's users are missing.

A shard that times out or cannot be reached gets 503 with `Retry-After` on the point
endpoints, so requests for its keys fail fast while other shards keep serving.
"""

from __future__ import annotations

import asyncio
import heapq
import logging
import re
import time
from http import HTTPStatus
from urllib.parse import parse_qsl

from targets.app.bodies import (
    BodyError,
    NewUser,
    decode_body,
    error_response,
    json_response,
    unavailable_response,
)
from targets.app.metrics import Metrics
from targets.app.routes import Request, RequestRoute
from targets.codecs.base import Codec
from targets.errors import DuplicateKeyError, ShardUnavailableError, StorageError
from targets.http.response import NOT_FOUND, Response
from targets.routing.keyspace import MAX_ID, UnknownRegionError
from targets.storage.records import User
from targets.storage.sharded import ShardedStore

logger = logging.getLogger(__name__)

DEFAULT_LIST_LIMIT = 100
MAX_LIST_LIMIT = 1000
ASSIGN_ID_ATTEMPTS = 3
"""New random ids tried when an assigned id exists already (about 2**-53 odds each)."""

_DECIMAL = re.compile(rb"[1-9][0-9]{0,18}")
_REGION = re.compile(r"[A-Za-z0-9_.-]{1,64}")


class UserEndpoints:
    """Handlers for `/users` and `/users/{id}` on a sharded store."""

    def __init__(
        self, codec: Codec, store: ShardedStore, metrics: Metrics, shard_timeout_s: float
    ) -> None:
        """Serve users from `store`, waiting for any one shard at most `shard_timeout_s`."""
        self._codec = codec
        self._store = store
        self._keyspace = store.keyspace
        self._metrics = metrics
        self._timeout_s = shard_timeout_s

    def routes(self) -> list[RequestRoute]:
        """Return the routes of `/users` and `/users/{id}`."""
        return [
            RequestRoute(b"/users", frozenset({b"GET", b"POST"}), self.users),
            RequestRoute(b"/users/", frozenset({b"GET"}), self.read_user, prefix=True),
        ]

    async def users(self, request: Request) -> Response:
        """Create a user on POST, list the users of a region on GET."""
        if request.method == b"POST":
            return await self.create_user(request)
        return await self.list_users(request)

    async def create_user(self, request: Request) -> Response:
        """Write a new user to its shard and return 201 with its id and shard."""
        try:
            new_user = decode_body(request.body, NewUser, self._codec)
        except BodyError as exc:
            return error_response(self._codec, exc.status, str(exc))
        try:
            return await self._insert_new(new_user)
        except (UnknownRegionError, ValueError) as exc:
            return error_response(self._codec, HTTPStatus.UNPROCESSABLE_ENTITY, str(exc))
        except DuplicateKeyError as exc:
            return error_response(self._codec, HTTPStatus.CONFLICT, str(exc))
        except ShardUnavailableError as exc:
            return self._unavailable(exc)

    async def read_user(self, request: Request) -> Response:
        """Read one user from the one shard its id routes to; 404 when absent."""
        if not _DECIMAL.fullmatch(request.path_tail):
            return NOT_FOUND
        user_id = int(request.path_tail)
        if user_id > MAX_ID:
            return NOT_FOUND
        shard = self._keyspace.shard_for_id(user_id)
        self._metrics.count_query(shard, "read_user")
        try:
            async with asyncio.timeout(self._timeout_s):
                user = await self._store.read_user(user_id)
        except TimeoutError:
            return self._unavailable(ShardUnavailableError(shard, "read timed out"))
        except ShardUnavailableError as exc:
            return self._unavailable(exc)
        if user is None:
            return error_response(self._codec, HTTPStatus.NOT_FOUND, f"user {user_id} not found")
        return json_response(self._codec, HTTPStatus.OK, user.to_json())

    async def list_users(self, request: Request) -> Response:
        """Gather the first `limit` users of `region` by id from every shard at once."""
        try:
            region, limit = _parse_list_query(request.query)
        except ValueError as exc:
            return error_response(self._codec, HTTPStatus.BAD_REQUEST, str(exc))

        # NOTE: on SQLite each leg is one blocking query on the loop thread, so the legs
        # run one after another and the timeout cannot cut a leg short.
        legs = [self._list_shard(shard, region, limit) for shard in range(self._keyspace.shards)]
        answers = await asyncio.gather(*legs)

        timings_ms: dict[str, float] = {}
        shard_users: list[list[User]] = []
        partial = False
        for shard, (users, elapsed_ms) in enumerate(answers):
            timings_ms[str(shard)] = round(elapsed_ms, 3)
            if users is None:
                partial = True
            else:
                shard_users.append(users)
        if partial:
            self._metrics.count_scatter_partial()

        merged = list(heapq.merge(*shard_users, key=_user_id))[:limit]
        body = {
            "users": [user.to_json() for user in merged],
            "partial": partial,
            "shards": timings_ms,
        }
        return json_response(self._codec, HTTPStatus.OK, body)

    async def _list_shard(
        self, shard: int, region: str, limit: int
    ) -> tuple[list[User] | None, float]:
        """List one shard within the timeout; `None` when it timed out or failed."""
        self._metrics.count_query(shard, "list_users")
        start_s = time.perf_counter()
        users: list[User] | None
        try:
            async with asyncio.timeout(self._timeout_s):
                users = await self._store.list_users(shard, region, limit)
        except (TimeoutError, StorageError) as exc:
            logger.warning("scatter-gather leg on shard %d failed: %s", shard, exc or "timed out")
            self._metrics.count_unavailable(shard)
            users = None
        return users, (time.perf_counter() - start_s) * 1000.0

    async def _insert_new(self, new_user: NewUser) -> Response:
        """Insert with the client's id, or with an assigned one, retried if it exists."""
        if new_user.id is not None:
            self._keyspace.check_id_region(new_user.id, new_user.region)
            return await self._insert(User(new_user.id, new_user.name, new_user.region))
        for attempt in range(1, ASSIGN_ID_ATTEMPTS + 1):
            user_id = self._keyspace.new_id(new_user.region)
            try:
                return await self._insert(User(user_id, new_user.name, new_user.region))
            except DuplicateKeyError:
                if attempt == ASSIGN_ID_ATTEMPTS:
                    raise
                logger.warning("assigned user id %d exists already; picking another", user_id)
        raise AssertionError("unreachable: the last attempt returns or raises")

    async def _insert(self, user: User) -> Response:
        shard = self._keyspace.shard_for_id(user.id)
        self._metrics.count_query(shard, "insert_user")
        # NOTE: no timeout here. A write cut off by a timeout might still commit,
        # and the client would receive a failure for it; the store bounds its own waits.
        await self._store.insert_user(user)
        location = (b"Location", f"/users/{user.id}".encode("ascii"))
        created = {"id": user.id, "shard": shard}
        return json_response(self._codec, HTTPStatus.CREATED, created, (location,))

    def _unavailable(self, exc: ShardUnavailableError) -> Response:
        self._metrics.count_unavailable(exc.shard)
        logger.warning("responded 503: %s", exc)
        return unavailable_response(self._codec, f"{exc}; retry later")


def _parse_list_query(query: bytes) -> tuple[str, int]:
    """Read `region` (required) and `limit` (1 to `MAX_LIST_LIMIT`, default 100).

    Raises:
        ValueError: a parameter is missing or invalid; the message names it.
    """
    parameters = dict(parse_qsl(query.decode("latin-1")))
    region = parameters.get("region")
    if region is None or not _REGION.fullmatch(region):
        raise ValueError("query parameter 'region' is missing or invalid: pass region=NAME")
    limit_text = parameters.get("limit", str(DEFAULT_LIST_LIMIT))
    if not limit_text.isdecimal() or not 1 <= int(limit_text) <= MAX_LIST_LIMIT:
        raise ValueError(
            f"query parameter 'limit' must be an integer in 1..{MAX_LIST_LIMIT}, got {limit_text!r}"
        )
    return region, int(limit_text)


def _user_id(user: User) -> int:
    return user.id
