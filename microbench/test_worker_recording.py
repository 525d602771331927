"""The worker's whole per-request recording path, as perfgate's plugin runs it.

Each round records 1,000 completed requests through `WorkerRecorder.record` with the
endpoint name built as the plugin builds it, and drains the recorder once, as a
worker report does. Divided by 1,000, this is what the plugin adds to each request.
The module must not import Locust: its gevent monkey-patching would change how the
other benchmarks in the same pytest process behave.
"""

from __future__ import annotations

import random

from pytest_benchmark.fixture import BenchmarkFixture

from perfgate.swarm.recorder import WorkerRecorder, endpoint_name

REQUESTS_PER_ROUND = 1_000

_rng = random.Random(5)
ROUTES = ["/db", "/json", "/plaintext", "/queries", "/updates", "/fortunes"]
REQUESTS = [
    (_rng.choice(ROUTES), _rng.lognormvariate(0.5, 0.8), 120) for _ in range(REQUESTS_PER_ROUND)
]


def record_round(recorder: WorkerRecorder) -> int:
    """Record one round of requests and drain them into a report; return the count."""
    for route, latency_ms, size in REQUESTS:
        recorder.record(endpoint_name("GET", route), latency_ms, None, response_bytes=size)
    report = recorder.drain(final=False)
    return sum(delta.requests for second in report.seconds for delta in second.endpoints.values())


def test_worker_recording_path(benchmark: BenchmarkFixture) -> None:
    recorder = WorkerRecorder()
    recorded = benchmark(record_round, recorder)
    assert recorded == REQUESTS_PER_ROUND
