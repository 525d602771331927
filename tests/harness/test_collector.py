"""Worker recording and exact, loss-aware merging on the master."""

from __future__ import annotations

import msgspec
import pytest

from perfgate.swarm.collector import ReportCollector
from perfgate.swarm.recorder import MAX_DISTINCT_ERRORS, OTHER_ERRORS, WorkerRecorder


class FakeClock:
    """A wall clock that tests move by hand."""

    def __init__(self, now_s: float) -> None:
        self.now_s = now_s

    def __call__(self) -> float:
        return self.now_s


def _send(
    collector: ReportCollector, worker: str, recorder: WorkerRecorder, *, final: bool = False
) -> None:
    collector.accept(worker, msgspec.to_builtins(recorder.drain(final=final)))


def test_two_workers_merge_per_second_and_endpoint() -> None:
    clock = FakeClock(100.2)
    first, second = WorkerRecorder(clock), WorkerRecorder(clock)
    first.record("GET /db", 1.5, None)
    second.record("GET /db", 2.5, "HTTPError: 500")
    clock.now_s = 101.7
    first.record("GET /json", 0.3, None)

    collector = ReportCollector()
    _send(collector, "w1", first, final=True)
    _send(collector, "w2", second, final=True)
    samples = {(s.second, s.endpoint): s for s in collector.snapshot().samples}

    assert set(samples) == {(100, "GET /db"), (101, "GET /json")}
    db = samples[(100, "GET /db")]
    assert db.requests == 2
    assert db.failures == 1
    assert db.errors == {"HTTPError: 500": 1}
    assert db.histogram.get_total_count() == 2
    assert db.histogram.get_max_value() == pytest.approx(2500, rel=1e-3)


def test_deltas_are_not_counted_twice() -> None:
    clock = FakeClock(10.0)
    recorder = WorkerRecorder(clock)
    collector = ReportCollector()
    recorder.record("GET /db", 1.0, None)
    _send(collector, "w1", recorder)
    recorder.record("GET /db", 1.0, None)
    _send(collector, "w1", recorder, final=True)

    snapshot = collector.snapshot()

    assert sum(sample.requests for sample in snapshot.samples) == 2
    account = snapshot.workers[0]
    assert account.finished
    assert account.recorded_total == 2
    assert account.lost_requests == 0


def test_lost_report_shows_as_lost_requests() -> None:
    recorder = WorkerRecorder(FakeClock(10.0))
    collector = ReportCollector()
    recorder.record("GET /db", 1.0, None)
    recorder.drain(final=False)  # this report never reaches the master
    recorder.record("GET /db", 1.0, None)
    _send(collector, "w1", recorder, final=True)

    account = collector.workers["w1"]
    assert account.recorded_total == 2
    assert account.received_total == 1
    assert account.lost_requests == 1
    assert account.out_of_order == 1


def test_repeated_report_is_dropped() -> None:
    recorder = WorkerRecorder(FakeClock(10.0))
    collector = ReportCollector()
    recorder.record("GET /db", 1.0, None)
    payload = msgspec.to_builtins(recorder.drain(final=False))
    collector.accept("w1", payload)
    collector.accept("w1", payload)

    assert sum(sample.requests for sample in collector.snapshot().samples) == 1
    assert collector.workers["w1"].out_of_order == 1


def test_invalid_report_is_counted_not_merged() -> None:
    collector = ReportCollector()
    collector.accept("w1", {"version": 1, "sequence": "one"})
    snapshot = collector.snapshot()
    assert snapshot.rejected_reports == 1
    assert snapshot.samples == ()


def test_unknown_wire_version_is_rejected() -> None:
    recorder = WorkerRecorder(FakeClock(10.0))
    payload = msgspec.to_builtins(recorder.drain(final=True))
    payload["version"] = 99
    collector = ReportCollector()
    collector.accept("w1", payload)
    assert collector.snapshot().rejected_reports == 1


def test_distinct_error_messages_are_capped() -> None:
    recorder = WorkerRecorder(FakeClock(10.0))
    for index in range(MAX_DISTINCT_ERRORS + 5):
        recorder.record("GET /db", 1.0, f"error {index}")
    collector = ReportCollector()
    _send(collector, "w1", recorder, final=True)

    errors = collector.snapshot().samples[0].errors
    assert len(errors) == MAX_DISTINCT_ERRORS + 1
    assert errors[OTHER_ERRORS] == 5
    assert sum(errors.values()) == MAX_DISTINCT_ERRORS + 5


def test_reset_keeps_sequence_counting() -> None:
    recorder = WorkerRecorder(FakeClock(10.0))
    collector = ReportCollector()
    _send(collector, "w1", recorder)
    recorder.reset()
    recorder.record("GET /db", 1.0, None)
    _send(collector, "w1", recorder, final=True)

    assert collector.workers["w1"].out_of_order == 0
    assert collector.workers["w1"].received_total == 1
