"""perfgate's Locust plugin: wire the recorder and the collector to Locust's events.

On a worker, every `request` event is recorded, and every Locust worker report
(`report_to_master`) carries the deltas under the `perfgate` key. When a worker stops
its users it sends one more report marked final, before it tells the master that it
has stopped, so the master knows when it holds everything that worker recorded.
On the master, `worker_report` feeds the collector.
"""

from __future__ import annotations

import logging
from typing import Any

import msgspec

from perfgate.swarm.collector import ReportCollector
from perfgate.swarm.recorder import WorkerRecorder
from perfgate.swarm.wire import REPORT_KEY

logger = logging.getLogger(__name__)


def endpoint_name(request_type: str, name: str) -> str:
    """Name an endpoint as perfgate's results do: method, a space, then the route."""
    return f"{request_type} {name}"


def install_worker_plugin(environment: Any, recorder: WorkerRecorder) -> None:
    """Record requests on this worker and attach the deltas to each worker report."""
    events = environment.events
    final_pending = False

    def on_request(
        request_type: str,
        name: str,
        response_time: float | None,
        exception: BaseException | None = None,
        **_kwargs: Any,
    ) -> None:
        error = None if exception is None else f"{type(exception).__name__}: {exception}"
        recorder.record(endpoint_name(request_type, name), response_time or 0.0, error)

    def on_report_to_master(client_id: str, data: dict[str, Any]) -> None:
        report = recorder.drain(final=final_pending)
        data[REPORT_KEY] = msgspec.to_builtins(report)

    def on_test_start(**_kwargs: Any) -> None:
        nonlocal final_pending
        final_pending = False
        recorder.reset()

    def on_test_stop(**_kwargs: Any) -> None:
        # Locust fires test_stop once all users have stopped and before the worker
        # sends `client_stopped`; messages on one connection keep their order.
        nonlocal final_pending
        runner = environment.runner
        if runner is None or not hasattr(runner, "client_id"):
            return
        final_pending = True
        data: dict[str, Any] = {}
        events.report_to_master.fire(client_id=runner.client_id, data=data)
        runner.send_message("stats", data)
        logger.info("sent the final report: %d requests recorded", recorder.recorded_total)

    events.request.add_listener(on_request)
    events.report_to_master.add_listener(on_report_to_master)
    events.test_start.add_listener(on_test_start)
    events.test_stop.add_listener(on_test_stop)


def install_master_plugin(environment: Any, collector: ReportCollector) -> None:
    """Merge every worker report's perfgate deltas into `collector`."""

    def on_worker_report(client_id: str, data: dict[str, Any]) -> None:
        if REPORT_KEY not in data:
            logger.warning(
                "worker %s sent a report without perfgate data; is its plugin loaded?", client_id
            )
            return
        collector.accept(client_id, data[REPORT_KEY])

    environment.events.worker_report.add_listener(on_worker_report)
