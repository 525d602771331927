"""The master side of perfgate's Locust plugin: merge worker reports exactly.

Workers send histogram deltas per second and endpoint. The collector keeps the
compressed payloads as they arrive and decodes them once, when a snapshot is taken,
so the master's memory grows with the compressed size of the run (a few kilobytes
per endpoint and second) rather than with uncompressed histograms.

NOTE: nothing is sealed or spilled to disk during the run, so a soak of many hours
keeps every payload in memory until the final snapshot.
"""

from __future__ import annotations

import dataclasses
import logging
from collections import defaultdict
from collections.abc import Iterable

import msgspec
from hdrh.histogram import HdrHistogram

import perfgate
from perfgate.histograms.histogram import decode, new_histogram
from perfgate.swarm.wire import WIRE_VERSION, WorkerReport

logger = logging.getLogger(__name__)


@dataclasses.dataclass
class WorkerAccount:
    """What the master has received from one worker during the current test.

    Attributes:
        worker_id: Locust's client id of the worker.
        last_sequence: sequence number of the newest report accepted.
        finished: whether the worker's final report has arrived.
        recorded_total: requests the worker reports it recorded, as of its newest report.
        received_total: requests the master has received from it in reports.
        out_of_order: reports that arrived with a sequence number not one above the last.
        arrivals: open model: arrivals due on the worker, as of its newest report.
        dropped_arrivals: open model: arrivals that never started.
        late_arrivals: open model: arrivals its scheduler started late.
    """

    worker_id: str
    last_sequence: int = 0
    finished: bool = False
    recorded_total: int = 0
    received_total: int = 0
    out_of_order: int = 0
    arrivals: int = 0
    dropped_arrivals: int = 0
    late_arrivals: int = 0

    @property
    def lost_requests(self) -> int:
        """Requests the worker recorded that never reached the master."""
        return self.recorded_total - self.received_total


@dataclasses.dataclass(frozen=True)
class SecondSample:
    """One endpoint's merged results for one second of the run, over all workers.

    `uncorrected` contains the latencies from the actual send in open-model runs
    (`histogram` then counts from the intended start); it is None in closed runs.
    """

    second: int
    endpoint: str
    requests: int
    failures: int
    histogram: HdrHistogram
    errors: dict[str, int]
    uncorrected: HdrHistogram | None = None
    response_bytes: int = 0


@dataclasses.dataclass(frozen=True)
class CollectorSnapshot:
    """Everything merged so far: samples ordered by second, then endpoint."""

    samples: tuple[SecondSample, ...]
    workers: tuple[WorkerAccount, ...]
    rejected_reports: int


@dataclasses.dataclass
class _Pending:
    requests: int = 0
    failures: int = 0
    payloads: list[str] = dataclasses.field(default_factory=list)
    uncorrected_payloads: list[str] = dataclasses.field(default_factory=list)
    errors: dict[str, int] = dataclasses.field(default_factory=dict)
    response_bytes: int = 0


class ReportCollector:
    """Merge perfgate's worker reports on the master.

    Not thread-safe: Locust fires `worker_report` from one greenlet at a time.
    """

    def __init__(self) -> None:
        self._pending: dict[tuple[int, str], _Pending] = defaultdict(_Pending)
        self._workers: dict[str, WorkerAccount] = {}
        self._rejected_reports = 0

    def reset(self) -> None:
        """Forget every report: a new test starts."""
        self._pending.clear()
        self._workers.clear()
        self._rejected_reports = 0

    @property
    def workers(self) -> dict[str, WorkerAccount]:
        """Accounts of the workers that have reported, by worker id."""
        return self._workers

    def accept(self, worker_id: str, raw: object) -> None:
        """Merge one report's `perfgate` part; an invalid report is counted and dropped."""
        try:
            report = msgspec.convert(raw, WorkerReport)
        except msgspec.ValidationError as exc:
            self._rejected_reports += 1
            logger.error("dropped an invalid report from worker %s: %s", worker_id, exc)
            return
        if report.version != WIRE_VERSION:
            self._rejected_reports += 1
            logger.error(
                "dropped a report of wire version %s from worker %s; this master reads version %s",
                report.version,
                worker_id,
                WIRE_VERSION,
            )
            return
        if report.perfgate_version != perfgate.__version__:
            logger.warning(
                "worker %s runs perfgate %s but the master runs %s; install the same version",
                worker_id,
                report.perfgate_version,
                perfgate.__version__,
            )

        account = self._workers.get(worker_id)
        if account is None:
            account = self._workers[worker_id] = WorkerAccount(worker_id)
        self._merge(account, report)

    def _merge(self, account: WorkerAccount, report: WorkerReport) -> None:
        if report.sequence <= account.last_sequence:
            account.out_of_order += 1
            logger.error(
                "dropped report %s from worker %s: it repeats or precedes report %s",
                report.sequence,
                account.worker_id,
                account.last_sequence,
            )
            return
        if report.sequence != account.last_sequence + 1:
            account.out_of_order += 1
        account.last_sequence = report.sequence
        account.recorded_total = report.recorded_total
        account.finished = account.finished or report.final
        account.arrivals = report.arrivals
        account.dropped_arrivals = report.dropped_arrivals
        account.late_arrivals = report.late_arrivals

        for delta in report.seconds:
            for endpoint, data in delta.endpoints.items():
                pending = self._pending[(delta.second, endpoint)]
                pending.requests += data.requests
                pending.failures += data.failures
                pending.payloads.append(data.histogram)
                if data.uncorrected is not None:
                    pending.uncorrected_payloads.append(data.uncorrected)
                pending.response_bytes += data.response_bytes
                for message, count in data.errors.items():
                    pending.errors[message] = pending.errors.get(message, 0) + count
                account.received_total += data.requests

    def live_counts(self, second: int) -> dict[str, tuple[int, int]]:
        """Return (requests, failures) per endpoint received so far for one second."""
        return {
            endpoint: (pending.requests, pending.failures)
            for (sample_second, endpoint), pending in self._pending.items()
            if sample_second == second
        }

    def samples_between(self, first_second: int, end_second: int) -> list[SecondSample]:
        """Decode and merge what has been received for the seconds in [first, end)."""
        return [
            _sample(second, endpoint, pending)
            for (second, endpoint), pending in sorted(self._pending.items())
            if first_second <= second < end_second
        ]

    def snapshot(self) -> CollectorSnapshot:
        """Decode and merge everything received into per-second samples."""
        samples = tuple(
            _sample(second, endpoint, pending)
            for (second, endpoint), pending in sorted(self._pending.items())
        )
        workers = tuple(dataclasses.replace(account) for account in self._workers.values())
        return CollectorSnapshot(samples, workers, self._rejected_reports)


def _sample(second: int, endpoint: str, pending: _Pending) -> SecondSample:
    uncorrected = None
    if pending.uncorrected_payloads:
        uncorrected = _merge_payloads(pending.uncorrected_payloads)
    return SecondSample(
        second=second,
        endpoint=endpoint,
        requests=pending.requests,
        failures=pending.failures,
        histogram=_merge_payloads(pending.payloads),
        errors=dict(pending.errors),
        uncorrected=uncorrected,
        response_bytes=pending.response_bytes,
    )


def _merge_payloads(payloads: Iterable[str]) -> HdrHistogram:
    merged = new_histogram()
    for payload in payloads:
        merged.add(decode(payload))
    return merged
