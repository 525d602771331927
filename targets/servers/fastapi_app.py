"""The `fastapi` server variant: the endpoints written as most teams would write them in FastAPI.

It is the baseline that shows what the framework-free variants buy, so its handlers
are idiomatic FastAPI: decorated functions that return dicts, a typed query
parameter, and FastAPI's own validation and serialization. Only the JSON rendering
is swapped for the chosen codec, as teams do with `ORJSONResponse`. A thin ASGI
middleware adds the `Server` and `Date` headers that the TechEmpower rules require,
because the hosts are configured not to add their own.

The user and event endpoints are FastAPI routes with typed path parameters whose
handlers delegate to the shared route table (`targets.app`). Their sharding,
scatter-gather and queue logic is too large to keep twice, so this variant measures
FastAPI's routing, parameter parsing and response handling around the same logic.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response

from targets.app.fortunes import render_fortunes, sort_fortunes
from targets.app.queries import clamp_query_count
from targets.app.routes import RouteTable
from targets.codecs.base import Codec
from targets.http.date import DateHeader
from targets.http.limits import ConnectionLimits
from targets.http.response import CONTENT_TOO_LARGE, SERVER_NAME
from targets.http.response import Response as TargetResponse
from targets.servers.asgi_hosts import AsgiApp, HostedAsgiServer, Message, Receive, Scope, Send
from targets.servers.base import ServerSettings
from targets.storage.base import Storage, WorldRow, random_world_id


def build_fastapi_app(codec: Codec, storage: Storage) -> FastAPI:
    """Build the FastAPI application for the JSON, database and health endpoints."""
    encode = codec.encode

    class CodecJSONResponse(JSONResponse):
        """A JSON response rendered by the target's codec."""

        def render(self, content: Any) -> bytes:
            return encode(content)

    app = FastAPI(
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
        default_response_class=CodecJSONResponse,
    )

    @app.get("/json")
    async def json_message() -> dict[str, str]:
        return {"message": "Hello, World!"}

    @app.get("/plaintext", response_class=PlainTextResponse)
    async def plaintext() -> str:
        return "Hello, World!"

    @app.get("/db")
    async def single_query() -> dict[str, int]:
        return _world_object(await storage.read_world(random_world_id()))

    @app.get("/queries")
    async def multiple_queries(queries: str = Query("")) -> list[dict[str, int]]:
        world_ids = [random_world_id() for _ in range(clamp_query_count(queries))]
        return [_world_object(row) for row in await storage.read_worlds(world_ids)]

    @app.get("/updates")
    async def updates(queries: str = Query("")) -> list[dict[str, int]]:
        world_ids = [random_world_id() for _ in range(clamp_query_count(queries))]
        return [_world_object(row) for row in await storage.update_worlds(world_ids)]

    @app.get("/fortunes", response_class=HTMLResponse)
    async def fortunes() -> HTMLResponse:
        rows = sort_fortunes(await storage.read_fortunes())
        return HTMLResponse(render_fortunes(rows))

    @app.get("/healthz", response_class=PlainTextResponse)
    async def healthz() -> Response:
        if storage.is_open:
            return PlainTextResponse("OK")
        return PlainTextResponse("Service Unavailable", status_code=503)

    return app


def add_shared_routes(app: FastAPI, routes: RouteTable, limits: ConnectionLimits) -> None:
    """Route `/users` and `/events` in FastAPI to the shared handlers in `routes`."""
    routed = set(routes.paths)

    async def delegate(request: Request) -> Response:
        body = await _read_body(request, limits.max_body_bytes)
        if body is None:
            return _to_fastapi(CONTENT_TOO_LARGE)
        result = routes.dispatch(
            request.method.encode("ascii"),
            request.url.path.encode("utf-8"),
            request.url.query.encode("latin-1"),
            body,
        )
        return _to_fastapi(result if isinstance(result, tuple) else await result)

    async def read_user(user_id: int, request: Request) -> Response:
        return await delegate(request)

    async def read_event(event_id: str, request: Request) -> Response:
        return await delegate(request)

    if b"/users" in routed:
        app.add_api_route("/users", delegate, methods=["GET", "POST"])
        app.add_api_route("/users/{user_id}", read_user, methods=["GET"])
    if b"/events" in routed:
        app.add_api_route("/events", delegate, methods=["POST"])
        app.add_api_route("/events/{event_id}", read_event, methods=["GET"])


async def _read_body(request: Request, max_body_bytes: int) -> bytes | None:
    """Read the body, or return `None` when it is over `max_body_bytes`, unread if announced."""
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > max_body_bytes:
        return None
    chunks: list[bytes] = []
    received_bytes = 0
    async for chunk in request.stream():
        received_bytes += len(chunk)
        if received_bytes > max_body_bytes:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def _to_fastapi(response: TargetResponse) -> Response:
    """Convert a shared handler's response, leaving `Server` to the middleware."""
    head, body = response
    headers = {
        name.decode("latin-1"): value.decode("latin-1")
        for name, value in head.headers
        if name not in (b"Server", b"Content-Type")
    }
    content_type = dict(head.headers)[b"Content-Type"].decode("latin-1")
    return Response(body, status_code=head.status.value, headers=headers, media_type=content_type)


def _world_object(row: WorldRow) -> dict[str, int]:
    return {"id": row[0], "randomNumber": row[1]}


class ServerAndDateHeaders:
    """ASGI middleware that adds `Server` and the cached `Date` to every response."""

    def __init__(self, app: AsgiApp, date: DateHeader) -> None:
        """Wrap `app`; `date` supplies the current `Date` line."""
        self._app = app
        self._date = date

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the scope to the application, adding the headers to `http.response.start`."""
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [
                    *message.get("headers", ()),
                    (b"server", SERVER_NAME),
                    (b"date", self._date.line[6:-2]),
                ]
            await send(message)

        await self._app(scope, receive, send_with_headers)


def create_fastapi_server(settings: ServerSettings) -> HostedAsgiServer:
    """Create the `fastapi` variant on `settings.asgi_server`."""
    date = DateHeader()
    fastapi_app = build_fastapi_app(settings.codec, settings.storage)
    add_shared_routes(fastapi_app, settings.routes, settings.limits)
    app = ServerAndDateHeaders(fastapi_app, date)
    return HostedAsgiServer(app, settings, date)


__all__ = ["build_fastapi_app", "create_fastapi_server"]
