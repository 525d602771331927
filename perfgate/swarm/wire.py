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


class EndpointSecond(msgspec.Struct, forbid_unknown_fields=True):
    """One endpoint's requests that completed in one second on one worker.

    Attributes:
        requests: requests completed, failures included.
        failures: requests that failed.
        histogram: latencies of all completed requests in microseconds, as a
            compressed base64 HdrHistogram.
        errors: failure messages and how often each occurred.
    """

    requests: int
    failures: int
    histogram: str
    errors: dict[str, int] = {}


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
    """

    version: int
    sequence: int
    final: bool
    recorded_total: int
    perfgate_version: str
    seconds: list[SecondDelta]
