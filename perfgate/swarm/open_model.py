"""The open-model executor on one worker: start each flow at its intended time.

A flow is one task of the locustfile's User class, run in its own greenlet on one of
a fixed pool of User instances (the in-flight limit). Each flow's requests are timed
two ways: from the actual send (uncorrected), and from the flow's intended start
(corrected for coordinated omission, as wrk2 does), so a target that stalls cannot
hide its own tail by slowing the generator down. A flow of several requests is also
recorded as a whole under `FLOW <task name>`.
"""

from __future__ import annotations

import enum
import logging
import random
import time
from collections.abc import Callable
from typing import Any

import gevent
import gevent.pool
import gevent.queue
from locust.exception import InterruptTaskSet, RescheduleTask, StopUser

from perfgate.errors import ConfigError
from perfgate.swarm.arrivals import LATE_TOLERANCE_S, RateStage, arrival_offsets
from perfgate.swarm.recorder import WorkerRecorder
from perfgate.swarm.wire import FLOW_PREFIX, OpenPlan

logger = logging.getLogger(__name__)

IN_FLIGHT_STOP_TIMEOUT_S = 10.0

START_DELAY_ATTRIBUTE = "perfgate_start_delay_s"
REQUEST_COUNT_ATTRIBUTE = "perfgate_requests"


class ExecutorState(enum.Enum):
    """Lifecycle of an `OpenExecutor`."""

    CREATED = "created"
    RUNNING = "running"
    STOPPED = "stopped"


def flow_start_delay_s() -> float | None:
    """Return the current flow's start delay if called inside an open-model flow.

    Also counts the call as one request of the flow. Returns None outside open-model
    flows (closed-model users), where latency counts from the actual send only.
    """
    current = gevent.getcurrent()
    delay = getattr(current, START_DELAY_ATTRIBUTE, None)
    if delay is not None:
        setattr(current, REQUEST_COUNT_ATTRIBUTE, getattr(current, REQUEST_COUNT_ATTRIBUTE, 0) + 1)
    return delay


def _tasks_of(user_class: Any) -> list[Callable[[Any], None]]:
    tasks: list[Callable[[Any], None]] = list(user_class.tasks)
    for task in tasks:
        if isinstance(task, type):
            msg = (
                f"User class {user_class.__name__} uses the TaskSet {task.__name__}; the open "
                "model runs plain @task functions only. Use a closed-model profile for it"
            )
            raise ConfigError(msg)
    if not tasks:
        msg = f"User class {user_class.__name__} has no @task to run"
        raise ConfigError(msg)
    return tasks


class OpenExecutor:
    """Start this worker's share of an open-model plan and run its flows."""

    def __init__(
        self,
        environment: Any,
        user_classes: list[Any],
        recorder: WorkerRecorder,
        plan: OpenPlan,
        on_finished: Callable[[], None],
    ) -> None:
        self._environment = environment
        self._user_classes = user_classes
        self._weights = [max(float(getattr(cls, "weight", 1)), 0.0) or 1.0 for cls in user_classes]
        self._tasks = {cls: _tasks_of(cls) for cls in user_classes}
        self._recorder = recorder
        self._plan = plan
        self._on_finished = on_finished
        self._idle: dict[Any, gevent.queue.Queue[Any]] = {}
        self._flows = gevent.pool.Group()
        self._scheduler: gevent.Greenlet[Any, Any] | None = None
        self._state = ExecutorState.CREATED

    @property
    def state(self) -> ExecutorState:
        """The executor's lifecycle state."""
        return self._state

    def start(self) -> None:
        """Create the user pool and start the scheduler greenlet."""
        if self._state is not ExecutorState.CREATED:
            msg = f"open executor is {self._state.value}; it can start only once"
            raise RuntimeError(msg)
        slots = max(self._plan.max_in_flight, 1)
        self._environment.host = self._plan.host
        for cls in self._user_classes:
            cls.host = self._plan.host
            queue: gevent.queue.Queue[Any] = gevent.queue.Queue()
            for _ in range(slots):
                queue.put(cls(self._environment))
            self._idle[cls] = queue
        self._state = ExecutorState.RUNNING
        self._scheduler = gevent.spawn(self._schedule)
        logger.info(
            "open model: worker %d of %d, %d slots, start at %.3f",
            self._plan.index,
            self._plan.count,
            slots,
            self._plan.origin_s,
        )

    def stop(self) -> None:
        """Stop scheduling, wait a bounded time for flows in flight, then report."""
        if self._state is not ExecutorState.RUNNING:
            return
        if self._scheduler is not None and self._scheduler is not gevent.getcurrent():
            self._scheduler.kill(block=True)
        self._finish()

    def _finish(self) -> None:
        self._state = ExecutorState.STOPPED
        self._flows.join(timeout=IN_FLIGHT_STOP_TIMEOUT_S)
        unfinished = len(self._flows)
        if unfinished:
            logger.warning(
                "open model: %d flows still in flight after %.0f s; stopping them",
                unfinished,
                IN_FLIGHT_STOP_TIMEOUT_S,
            )
            self._flows.kill(block=True)
        self._on_finished()

    def _schedule(self) -> None:
        plan = [RateStage(*stage) for stage in self._plan.stages]
        for offset_s in arrival_offsets(plan, self._plan.index, self._plan.count):
            intended_s = self._plan.origin_s + offset_s
            wait_s = intended_s - time.time()
            if wait_s > 0:
                gevent.sleep(wait_s)
            elif -wait_s > LATE_TOLERANCE_S:
                self._recorder.late_arrivals += 1
            self._recorder.arrivals += 1
            self._flows.spawn(self._run_flow, intended_s)
        self._finish()

    def _run_flow(self, intended_s: float) -> None:
        cls = random.choices(self._user_classes, weights=self._weights)[0]
        idle = self._idle[cls]
        wait_limit_s = intended_s + self._plan.drop_after_s - time.time()
        try:
            user = idle.get(timeout=max(wait_limit_s, 0.0))
        except gevent.queue.Empty:
            self._recorder.dropped_arrivals += 1
            return

        task = random.choice(self._tasks[cls])
        current = gevent.getcurrent()
        started_s = time.time()
        setattr(current, START_DELAY_ATTRIBUTE, started_s - intended_s)
        setattr(current, REQUEST_COUNT_ATTRIBUTE, 0)
        error: str | None = None
        try:
            task(user)
        except gevent.GreenletExit:
            raise
        except (StopUser, RescheduleTask, InterruptTaskSet):
            pass  # Locust's control-flow exceptions end the flow normally
        except Exception as exc:  # a locustfile error must not end the worker
            error = f"{type(exc).__name__}: {exc}"
            logger.debug("flow %s raised %s", getattr(task, "__name__", task), error)
        finally:
            idle.put(user)

        if getattr(current, REQUEST_COUNT_ATTRIBUTE, 0) > 1 or error is not None:
            ended_s = time.time()
            self._recorder.record(
                FLOW_PREFIX + getattr(task, "__name__", "task"),
                (ended_s - intended_s) * 1000.0,
                error,
                uncorrected_ms=(ended_s - started_s) * 1000.0,
            )
