"""The metrics a target records per request, and what `GET /metrics` exports from them.

The HTTP test serves real requests through `perfgate serve` and parses the scrape
with prometheus-client's own text parser. The other tests call `Metrics` directly.
"""

from __future__ import annotations

import asyncio
from http import HTTPStatus
from typing import TYPE_CHECKING

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from targets.app.metrics import LATENCY_BUCKETS_S, Metrics, RouteStats
from targets.app.routes import Request, Route
from targets.http.response import CONTENT_TYPE_TEXT, Response, make_head

if TYPE_CHECKING:
    from tests.targets.conftest import StartTarget

_OK = make_head(HTTPStatus.OK, CONTENT_TYPE_TEXT)
_NOT_FOUND = make_head(HTTPStatus.NOT_FOUND, CONTENT_TYPE_TEXT)


def _samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Index every sample of a scrape by name and label set."""
    samples: dict[tuple[str, frozenset[tuple[str, str]]], float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return samples


def _labels(**labels: str) -> frozenset[tuple[str, str]]:
    return frozenset(labels.items())


def _scrape(metrics: Metrics) -> str:
    request = Request(b"GET", b"/metrics", b"")
    _, body = asyncio.run(metrics.endpoint(request))
    return body.decode()


def test_exported_counts_equal_requests_served(start_target: StartTarget) -> None:
    served = {"/json": 37, "/plaintext": 23, "/db": 11}
    target = start_target("target", "--consumers", "0")
    with httpx.Client(base_url=target.base_url, timeout=10.0) as client:
        for path, count in served.items():
            for _ in range(count):
                assert client.get(path).status_code == 200
        scrape = client.get("/metrics")

    samples = _samples(scrape.text)
    for path, count in served.items():
        route = _labels(route=path)
        assert samples[("perfgate_requests_total", _labels(route=path, status="200"))] == count
        assert samples[("perfgate_request_duration_seconds_count", route)] == count
        inf_bucket = _labels(route=path, le="+Inf")
        assert samples[("perfgate_request_duration_seconds_bucket", inf_bucket)] == count
        assert samples[("perfgate_request_duration_seconds_sum", route)] > 0.0


def test_latency_on_bound_falls_in_that_bucket() -> None:
    stats = RouteStats("/json")
    for bound_s in LATENCY_BUCKETS_S:
        stats.record(HTTPStatus.OK, bound_s)
    stats.record(HTTPStatus.OK, LATENCY_BUCKETS_S[-1] * 2)

    assert stats.bucket_counts == [1] * (len(LATENCY_BUCKETS_S) + 1)
    assert stats.requests == len(LATENCY_BUCKETS_S) + 1
    assert stats.latency_sum_s == pytest.approx(sum(LATENCY_BUCKETS_S) + 20.0)


def test_buckets_export_cumulative() -> None:
    metrics = Metrics()
    stats = metrics.add_route("/db")
    stats.record(HTTPStatus.OK, 0.0001)
    stats.record(HTTPStatus.OK, 0.003)
    stats.record(HTTPStatus.OK, 30.0)

    samples = _samples(_scrape(metrics))
    bucket = "perfgate_request_duration_seconds_bucket"
    assert samples[(bucket, _labels(route="/db", le="0.0005"))] == 1
    assert samples[(bucket, _labels(route="/db", le="0.0025"))] == 1
    assert samples[(bucket, _labels(route="/db", le="0.005"))] == 2
    assert samples[(bucket, _labels(route="/db", le="10.0"))] == 2
    assert samples[(bucket, _labels(route="/db", le="+Inf"))] == 3
    assert samples[("perfgate_request_duration_seconds_sum", _labels(route="/db"))] == (
        pytest.approx(30.0031)
    )


def test_requests_counted_by_status() -> None:
    metrics = Metrics()
    found = metrics.instrument(Route(b"/found", frozenset({b"GET"}), lambda query: (_OK, b"")))
    missing = metrics.instrument(
        Route(b"/missing", frozenset({b"GET"}), lambda query: (_NOT_FOUND, b""))
    )
    assert isinstance(found, Route)
    assert isinstance(missing, Route)
    for _ in range(3):
        found.handler(b"")
    missing.handler(b"")

    samples = _samples(_scrape(metrics))
    requests = "perfgate_requests_total"
    assert samples[(requests, _labels(route="/found", status="200"))] == 3
    assert samples[(requests, _labels(route="/missing", status="404"))] == 1
    assert (requests, _labels(route="/found", status="404")) not in samples


def test_async_handler_recorded_once_awaited() -> None:
    metrics = Metrics()

    async def wait_then_answer(query: bytes) -> Response:
        await asyncio.sleep(0)
        return _OK, b""

    route = metrics.instrument(Route(b"/slow", frozenset({b"GET"}), wait_then_answer))
    assert isinstance(route, Route)
    pending = route.handler(b"")
    assert not isinstance(pending, tuple)
    count = ("perfgate_request_duration_seconds_count", _labels(route="/slow"))
    assert count not in _samples(_scrape(metrics))

    asyncio.run(_await(pending))

    assert _samples(_scrape(metrics))[count] == 1


async def _await(pending: object) -> None:
    assert asyncio.iscoroutine(pending)
    await pending


def test_shard_counters_exported() -> None:
    metrics = Metrics()
    metrics.count_query(2, "read_user")
    metrics.count_query(2, "read_user")
    metrics.count_query(0, "insert_user")
    metrics.count_unavailable(3)
    metrics.count_scatter_partial()

    samples = _samples(_scrape(metrics))
    queries = "perfgate_shard_queries_total"
    assert samples[(queries, _labels(shard="2", operation="read_user"))] == 2
    assert samples[(queries, _labels(shard="0", operation="insert_user"))] == 1
    assert samples[("perfgate_shard_unavailable_total", _labels(shard="3"))] == 1
    assert samples[("perfgate_scatter_partial_total", _labels())] == 1
    assert samples[("perfgate_queue_depth", _labels())] == 0
