"""Records that workers send to the master inside Locust's worker reports.

Each worker report carries, under the `perfgate` key, everything the worker recorded
since its previous report, grouped by the wall-clock second in which each request
completed. The master adds these deltas together, so nothing is recorded twice and
nothing is lost as long as every report arrives; `recorded_total` lets the master
prove that.
"""

from __future__ import annotations

import msgspec

WIRE_VERSION = 1
REPORT_KEY = "perfgate"
FLOW_PREFIX = "FLOW "
OPEN_START_MESSAGE = "perfgate_open_start"
OPEN_STOP_MESSAGE = "perfgate_open_stop"


class OpenPlan(msgspec.Struct, forbid_unknown_fields=True):
    """The master's instruction to one worker to start an open-model test.

    Attributes:
        origin_s: wall-clock start of the plan, seconds since the epoch.
        stages: (duration_s, from_rps, to_rps) per stage, over all workers.
        index: this worker's position among the `count` workers sharing the plan.
        count: workers sharing the plan.
        max_in_flight: flows this worker may run at once.
        drop_after_s: how long an arrival may wait for a free slot.
        host: base URL of the target.
    """

    origin_s: float
    stages: list[tuple[float, float, float]]
    index: int
    count: int
    max_in_flight: int
    drop_after_s: float
    host: str


class EndpointSecond(msgspec.Struct, forbid_unknown_fields=True):
    """One endpoint's requests that completed in one second on one worker.

    Attributes:
        requests: requests completed, failures included.
        failures: requests that failed.
        histogram: latencies of all completed requests in microseconds, as a
            compressed base64 HdrHistogram. In the open model they count from each
            request's intended start (corrected for coordinated omission).
        errors: failure messages and how often each occurred.
        uncorrected: open model only: the same requests' latencies counted from the
            actual send, in the same encoding; None in the closed model.
        response_bytes: response body bytes received.
    """

    requests: int
    failures: int
    histogram: str
    errors: dict[str, int] = {}
    uncorrected: str | None = None
    response_bytes: int = 0


class SecondDelta(msgspec.Struct, forbid_unknown_fields=True):
    """Everything a worker recorded for one wall-clock second (epoch seconds, floored)."""

    second: int
    endpoints: dict[str, EndpointSecond]


class WorkerReport(msgspec.Struct, forbid_unknown_fields=True):
    """perfgate's part of one Locust worker report.

    Attributes:
        version: wire format version; the master rejects versions it does not know.
        sequence: 1 for the worker process's first report, then +1 per report.
        final: whether this is the worker's last report of the test, sent after all
            of its users have stopped.
        recorded_total: requests the worker recorded since the test started,
            including those in this report.
        perfgate_version: the worker's perfgate version, checked against the master's.
        seconds: the deltas since the previous report.
        arrivals: open model: arrivals due so far in this test.
        dropped_arrivals: open model: arrivals that found no free slot within the
            wait limit and never started.
        late_arrivals: open model: arrivals the worker's scheduler started late,
            because the worker itself was too busy.
    """

    version: int
    sequence: int
    final: bool
    recorded_total: int
    perfgate_version: str
    seconds: list[SecondDelta]
    arrivals: int = 0
    dropped_arrivals: int = 0
    late_arrivals: int = 0
