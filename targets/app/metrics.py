"""Prometheus metrics of a target, and the `GET /metrics` endpoint that exposes them.

Metrics: requests and latency per route (`perfgate_requests_total`,
`perfgate_request_duration_seconds`), queries and unavailable responses per shard
(`perfgate_shard_queries_total`, `perfgate_shard_unavailable_total`), scatter-gather
responses missing a shard (`perfgate_scatter_partial_total`), and the event queue's
depth and lag (`perfgate_queue_depth`, `perfgate_queue_lag_seconds`), read from the
queue at each scrape.

Each target has its own registry, so tests can build several in one process.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Coroutine
from http import HTTPStatus
from typing import Any

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from targets.app.routes import Handler, HandlerResult, Request, RequestHandler, RequestRoute, Route
from targets.http.response import Response, make_head

logger = logging.getLogger(__name__)

BacklogReader = Callable[[], Awaitable[tuple[int, float | None]]]
"""Return the queue's unprocessed events and the enqueue time of the oldest (epoch seconds)."""

_LATENCY_BUCKETS_S = (
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0
)  # fmt: skip
_METRICS_HEAD = make_head(HTTPStatus.OK, CONTENT_TYPE_LATEST.encode("ascii"))


class Metrics:
    """The metrics of one target and the helpers its handlers record through."""

    def __init__(self) -> None:
        """Create the registry and every metric in it."""
        # The `_created` timestamp series double the output and no dashboard reads them.
        disable_created_metrics()  # type: ignore[no-untyped-call]
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "perfgate_requests",
            "HTTP requests answered, by route and status code.",
            ("route", "status"),
            registry=self.registry,
        )
        self.latency = Histogram(
            "perfgate_request_duration_seconds",
            "Time from dispatch to a complete response, by route.",
            ("route",),
            buckets=_LATENCY_BUCKETS_S,
            registry=self.registry,
        )
        self.shard_queries = Counter(
            "perfgate_shard_queries",
            "Queries sent to a shard, by shard and operation.",
            ("shard", "operation"),
            registry=self.registry,
        )
        self.shard_unavailable = Counter(
            "perfgate_shard_unavailable",
            "Queries that failed because the shard timed out or was unreachable.",
            ("shard",),
            registry=self.registry,
        )
        self.scatter_partial = Counter(
            "perfgate_scatter_partial",
            "Scatter-gather responses that lack at least one shard.",
            registry=self.registry,
        )
        self.queue_depth = Gauge(
            "perfgate_queue_depth",
            "Events accepted but not yet processed, read at scrape time.",
            registry=self.registry,
        )
        self.queue_lag = Gauge(
            "perfgate_queue_lag_seconds",
            "Age of the oldest unprocessed event, 0 when none waits, read at scrape time.",
            registry=self.registry,
        )
        self._backlog: BacklogReader | None = None

    def watch_queue(self, backlog: BacklogReader) -> None:
        """Read the queue's depth and lag through `backlog` at every scrape."""
        self._backlog = backlog

    def count_query(self, shard: int, operation: str) -> None:
        """Count one query sent to `shard`."""
        self.shard_queries.labels(str(shard), operation).inc()

    def count_unavailable(self, shard: int) -> None:
        """Count one query that failed because `shard` was unavailable."""
        self.shard_unavailable.labels(str(shard)).inc()

    async def endpoint(self, request: Request) -> Response:
        """Serve `GET /metrics` in the Prometheus text format."""
        if self._backlog is not None:
            try:
                depth, oldest = await self._backlog()
            except Exception as exc:
                logger.warning("cannot read the queue backlog for /metrics: %s", exc)
            else:
                self.queue_depth.set(depth)
                self.queue_lag.set(0.0 if oldest is None else max(0.0, time.time() - oldest))
        return _METRICS_HEAD, generate_latest(self.registry)

    def route(self) -> RequestRoute:
        """Return the `GET /metrics` route."""
        return RequestRoute(b"/metrics", frozenset({b"GET"}), self.endpoint)

    def instrument(self, route: Route | RequestRoute) -> Route | RequestRoute:
        """Wrap `route`'s handler so that it counts requests and records latency."""
        name = route.path.decode("ascii")
        if isinstance(route, RequestRoute):
            name = f"{name}{{id}}" if route.prefix else name
            return RequestRoute(
                route.path, route.methods, self._wrap_request(name, route.handler), route.prefix
            )
        return Route(route.path, route.methods, self._wrap_query(name, route.handler))

    def _wrap_query(self, name: str, handler: Handler) -> Handler:
        def recorded(query: bytes) -> HandlerResult:
            return self._record(name, time.perf_counter(), handler(query))

        return recorded

    def _wrap_request(self, name: str, handler: RequestHandler) -> RequestHandler:
        def recorded(request: Request) -> HandlerResult:
            return self._record(name, time.perf_counter(), handler(request))

        return recorded

    def _record(self, name: str, start_s: float, result: HandlerResult) -> HandlerResult:
        if isinstance(result, tuple):
            self._observe(name, start_s, result)
            return result
        return self._record_async(name, start_s, result)

    async def _record_async(
        self, name: str, start_s: float, pending: Coroutine[Any, Any, Response]
    ) -> Response:
        response = await pending
        self._observe(name, start_s, response)
        return response

    def _observe(self, name: str, start_s: float, response: Response) -> None:
        self.latency.labels(name).observe(time.perf_counter() - start_s)
        self.requests.labels(name, str(response[0].status.value)).inc()
