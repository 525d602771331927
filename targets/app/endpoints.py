"""The TechEmpower endpoints, written against the codec and storage interfaces only."""

from __future__ import annotations

from http import HTTPStatus

from targets.app.fortunes import render_fortunes, sort_fortunes
from targets.app.queries import parse_query_count
from targets.app.routes import Route
from targets.codecs.base import Codec
from targets.http.response import (
    CONTENT_TYPE_HTML,
    CONTENT_TYPE_JSON,
    CONTENT_TYPE_TEXT,
    SERVICE_UNAVAILABLE,
    Response,
    make_head,
)
from targets.storage.base import Storage, WorldRow, random_world_id

JSON_HEAD = make_head(HTTPStatus.OK, CONTENT_TYPE_JSON)
TEXT_HEAD = make_head(HTTPStatus.OK, CONTENT_TYPE_TEXT)
HTML_HEAD = make_head(HTTPStatus.OK, CONTENT_TYPE_HTML)

HELLO_TEXT = b"Hello, World!"
HEALTHY: Response = (TEXT_HEAD, b"OK")

_GET = frozenset({b"GET"})


class Endpoints:
    """Handlers for `/json`, `/plaintext`, `/db`, `/queries`, `/updates`, `/fortunes`, `/healthz`.

    Each handler takes the raw query string. The ones that touch storage are
    coroutines, and the others return their response directly.
    """

    def __init__(self, codec: Codec, storage: Storage) -> None:
        """Serve responses encoded by `codec` from rows in `storage`."""
        self._encode = codec.encode
        self._storage = storage

    def routes(self) -> list[Route]:
        """Return one GET route per endpoint."""
        return [
            Route(b"/json", _GET, self.json),
            Route(b"/plaintext", _GET, self.plaintext),
            Route(b"/db", _GET, self.db),
            Route(b"/queries", _GET, self.queries),
            Route(b"/updates", _GET, self.updates),
            Route(b"/fortunes", _GET, self.fortunes),
            Route(b"/healthz", _GET, self.healthz),
        ]

    def json(self, query: bytes) -> Response:
        """Encode a new `{"message": "Hello, World!"}` object."""
        return JSON_HEAD, self._encode({"message": "Hello, World!"})

    def plaintext(self, query: bytes) -> Response:
        """Return `Hello, World!` as text."""
        return TEXT_HEAD, HELLO_TEXT

    def healthz(self, query: bytes) -> Response:
        """Return 200 while storage is open, else 503."""
        if self._storage.is_open:
            return HEALTHY
        return SERVICE_UNAVAILABLE

    async def db(self, query: bytes) -> Response:
        """Read one random `world` row."""
        row = await self._storage.read_world(random_world_id())
        return JSON_HEAD, self._encode(_world_object(row))

    async def queries(self, query: bytes) -> Response:
        """Read `queries` random `world` rows, one point query each."""
        world_ids = [random_world_id() for _ in range(parse_query_count(query))]
        rows = await self._storage.read_worlds(world_ids)
        return JSON_HEAD, self._encode([_world_object(row) for row in rows])

    async def updates(self, query: bytes) -> Response:
        """Read `queries` random `world` rows, store new random numbers and return them."""
        world_ids = [random_world_id() for _ in range(parse_query_count(query))]
        rows = await self._storage.update_worlds(world_ids)
        return JSON_HEAD, self._encode([_world_object(row) for row in rows])

    async def fortunes(self, query: bytes) -> Response:
        """Render every fortune plus the one added at request time, sorted by message."""
        rows = sort_fortunes(await self._storage.read_fortunes())
        return HTML_HEAD, render_fortunes(rows)


def _world_object(row: WorldRow) -> dict[str, int]:
    return {"id": row[0], "randomNumber": row[1]}
