"""The worker side of perfgate's Locust plugin: record every request into histograms.

Locust keeps only rounded response times. perfgate records each request's latency
into an HdrHistogram per endpoint and per second, so any percentile of any time slice
can be recomputed exactly after the run.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable

from hdrh.histogram import HdrHistogram

import perfgate
from perfgate.histograms.histogram import clamp_us, encode, new_histogram
from perfgate.swarm.wire import WIRE_VERSION, EndpointSecond, SecondDelta, WorkerReport

MAX_ERROR_LENGTH = 200
MAX_DISTINCT_ERRORS = 20
OTHER_ERRORS = "(other errors)"


def endpoint_name(request_type: str, name: str) -> str:
    """Name an endpoint as perfgate's results do: method, a space, then the route."""
    return f"{request_type} {name}"


@dataclasses.dataclass
class _EndpointBucket:
    histogram: HdrHistogram = dataclasses.field(default_factory=new_histogram)
    requests: int = 0
    failures: int = 0
    errors: dict[str, int] = dataclasses.field(default_factory=dict)
    uncorrected: HdrHistogram | None = None
    response_bytes: int = 0

    def add_error(self, message: str) -> None:
        text = message[:MAX_ERROR_LENGTH]
        if text not in self.errors and len(self.errors) >= MAX_DISTINCT_ERRORS:
            text = OTHER_ERRORS
        self.errors[text] = self.errors.get(text, 0) + 1

    def to_wire(self) -> EndpointSecond:
        return EndpointSecond(
            requests=self.requests,
            failures=self.failures,
            histogram=encode(self.histogram),
            errors=dict(self.errors),
            uncorrected=None if self.uncorrected is None else encode(self.uncorrected),
            response_bytes=self.response_bytes,
        )


class WorkerRecorder:
    """Collect request samples between two worker reports.

    Not thread-safe: Locust calls it from greenlets of one thread.
    """

    def __init__(
        self, clock_s: Callable[[], float] = time.time, *, record_latency: bool = True
    ) -> None:
        """Create an empty recorder.

        Args:
            clock_s: wall clock in seconds since the epoch; tests pass a fake.
            record_latency: False counts requests without recording latencies, which
                `perfgate calibrate` uses to measure what recording costs.
        """
        self._clock_s = clock_s
        self._record_latency = record_latency
        self._seconds: dict[int, dict[str, _EndpointBucket]] = {}
        self._sequence = 0
        self._recorded_total = 0
        self.arrivals = 0
        self.dropped_arrivals = 0
        self.late_arrivals = 0

    @property
    def recorded_total(self) -> int:
        """Requests recorded since the last `reset`."""
        return self._recorded_total

    def reset(self) -> None:
        """Forget the samples and the total: a new test starts.

        The report sequence goes on counting, because the master has already seen
        the reports this worker sent while it waited for the test to start.
        """
        self._seconds.clear()
        self._recorded_total = 0
        self.arrivals = 0
        self.dropped_arrivals = 0
        self.late_arrivals = 0

    def record(
        self,
        endpoint: str,
        latency_ms: float,
        error: str | None,
        *,
        uncorrected_ms: float | None = None,
        response_bytes: int = 0,
    ) -> None:
        """Record one completed request under the second in which it completed.

        Args:
            endpoint: method and route, such as `GET /db`.
            latency_ms: the latency to summarize: from the intended start in the open
                model, from the actual send in the closed model.
            error: the failure message, or None for a success.
            uncorrected_ms: open model only: the latency from the actual send.
            response_bytes: response body bytes received.
        """
        second = int(self._clock_s())
        buckets = self._seconds.get(second)
        if buckets is None:
            buckets = self._seconds[second] = {}
        bucket = buckets.get(endpoint)
        if bucket is None:
            bucket = buckets[endpoint] = _EndpointBucket()

        if self._record_latency:
            bucket.histogram.record_value(clamp_us(latency_ms * 1000.0))
        if uncorrected_ms is not None and self._record_latency:
            if bucket.uncorrected is None:
                bucket.uncorrected = new_histogram()
            bucket.uncorrected.record_value(clamp_us(uncorrected_ms * 1000.0))
        bucket.requests += 1
        bucket.response_bytes += response_bytes
        if error is not None:
            bucket.failures += 1
            bucket.add_error(error)
        self._recorded_total += 1

    def drain(self, *, final: bool) -> WorkerReport:
        """Return everything recorded since the previous drain, and forget it."""
        self._sequence += 1
        seconds = [
            SecondDelta(
                second=second,
                endpoints={name: bucket.to_wire() for name, bucket in buckets.items()},
            )
            for second, buckets in sorted(self._seconds.items())
        ]
        self._seconds.clear()
        return WorkerReport(
            version=WIRE_VERSION,
            sequence=self._sequence,
            final=final,
            recorded_total=self._recorded_total,
            perfgate_version=perfgate.__version__,
            seconds=seconds,
            arrivals=self.arrivals,
            dropped_arrivals=self.dropped_arrivals,
            late_arrivals=self.late_arrivals,
        )
