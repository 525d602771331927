"""perfgate's Locust plugin: wire the recorder and the collector to Locust's events.

On a worker, every `request` event is recorded, and every Locust worker report
(`report_to_master`) carries the deltas under the `perfgate` key. When a worker has
finished its test (its users stopped, or its open-model plan ended) it sends one more
report marked final, before it sends the master `client_stopped`, so the master
knows when it holds everything that worker recorded. On the master, `worker_report`
feeds the collector.
"""

from __future__ import annotations

import logging
from typing import Any

import msgspec

from perfgate.swarm.collector import ReportCollector
from perfgate.swarm.open_model import OpenExecutor, flow_start_delay_s
from perfgate.swarm.recorder import WorkerRecorder, endpoint_name
from perfgate.swarm.wire import OPEN_START_MESSAGE, OPEN_STOP_MESSAGE, REPORT_KEY, OpenPlan

logger = logging.getLogger(__name__)


class WorkerPlugin:
    """The worker half of the plugin: record requests, report, run open-model plans."""

    def __init__(self, environment: Any, user_classes: list[Any], recorder: WorkerRecorder) -> None:
        self._environment = environment
        self._user_classes = user_classes
        self._recorder = recorder
        self._final_pending = False
        self._executor: OpenExecutor | None = None

        events = environment.events
        events.request.add_listener(self._on_request)
        events.report_to_master.add_listener(self._on_report_to_master)
        events.test_start.add_listener(self._on_test_start)
        events.test_stop.add_listener(self._on_test_stop)

    def attach(self, runner: Any) -> None:
        """Register the open-model messages on the worker runner once it exists."""
        runner.register_message(OPEN_START_MESSAGE, self._on_open_start)
        runner.register_message(OPEN_STOP_MESSAGE, self._on_open_stop)

    def _on_request(
        self,
        request_type: str,
        name: str,
        response_time: float | None,
        response_length: int | None = None,
        exception: BaseException | None = None,
        **_kwargs: Any,
    ) -> None:
        error = None if exception is None else f"{type(exception).__name__}: {exception}"
        uncorrected_ms = response_time or 0.0
        start_delay_s = flow_start_delay_s()
        if start_delay_s is None:
            latency_ms, uncorrected = uncorrected_ms, None
        else:
            latency_ms, uncorrected = uncorrected_ms + start_delay_s * 1000.0, uncorrected_ms
        self._recorder.record(
            endpoint_name(request_type, name),
            latency_ms,
            error,
            uncorrected_ms=uncorrected,
            response_bytes=response_length or 0,
        )

    def _on_report_to_master(self, client_id: str, data: dict[str, Any]) -> None:
        report = self._recorder.drain(final=self._final_pending)
        data[REPORT_KEY] = msgspec.to_builtins(report)

    def _on_test_start(self, **_kwargs: Any) -> None:
        self._final_pending = False
        self._recorder.reset()

    def _on_test_stop(self, **_kwargs: Any) -> None:
        # Locust fires test_stop once all users have stopped and before the worker
        # sends `client_stopped`; messages on one connection keep their order.
        if self._executor is None:
            self.send_final_report()

    def send_final_report(self) -> None:
        """Send everything not yet reported, marked final, through Locust's report path."""
        runner = self._environment.runner
        if runner is None or not hasattr(runner, "client_id"):
            return
        self._final_pending = True
        data: dict[str, Any] = {}
        self._environment.events.report_to_master.fire(client_id=runner.client_id, data=data)
        runner.send_message("stats", data)
        logger.info("sent the final report: %d requests recorded", self._recorder.recorded_total)

    def _on_open_start(self, environment: Any, msg: Any, **_kwargs: Any) -> None:
        try:
            plan = msgspec.convert(msg.data, OpenPlan)
        except msgspec.ValidationError as exc:
            logger.error("ignored an invalid open-model plan from the master: %s", exc)
            return
        if self._executor is not None:
            self._executor.stop()
        self._final_pending = False
        self._recorder.reset()
        self._executor = OpenExecutor(
            environment, self._user_classes, self._recorder, plan, self._on_open_finished
        )
        try:
            self._executor.start()
        except Exception:
            # Report at once, so the master counts a finished worker with no samples
            # instead of waiting for one that will never report.
            logger.exception("the open-model executor failed to start")
            self._executor = None
            self.send_final_report()

    def _on_open_stop(self, environment: Any, msg: Any, **_kwargs: Any) -> None:
        if self._executor is not None:
            self._executor.stop()

    def _on_open_finished(self) -> None:
        self.send_final_report()
        self._executor = None


def install_worker_plugin(
    environment: Any, user_classes: list[Any], recorder: WorkerRecorder
) -> WorkerPlugin:
    """Record requests on this worker and attach the deltas to each worker report."""
    return WorkerPlugin(environment, user_classes, recorder)


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
