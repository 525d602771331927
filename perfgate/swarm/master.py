"""The Locust master, run inside the perfgate process, and the profile that drives it.

The records it produces (`Tick`, `StageSpan`, `Timeline`, `SwarmResult`) live in
perfgate.swarm.timeline and are imported here too.

A `Swarm` owns one Locust `MasterRunner` bound to loopback by default. It waits for
workers, walks the profile's stages, samples the user count and the workers' CPU
once a second, and at the end collects every worker's final report.
"""

from __future__ import annotations

import enum
import logging
import math
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgspec

from perfgate.errors import SwarmError
from perfgate.histograms.histogram import merge, percentile_ms
from perfgate.profiles.model import LoadModel, Profile, Stage
from perfgate.swarm.arrivals import RateStage, rate_stages
from perfgate.swarm.collector import ReportCollector
from perfgate.swarm.timeline import (
    Schedule,
    StageSpan,
    SwarmResult,
    Tick,
    Timeline,
)
from perfgate.swarm.wire import FLOW_PREFIX, OPEN_START_MESSAGE, OPEN_STOP_MESSAGE, OpenPlan

logger = logging.getLogger(__name__)

POLL_S = 0.1
OPEN_START_DELAY_S = 1.0
# Users finish the task they are in when the run stops, for at most this long, so that
# requests already sent are recorded rather than abandoned half-way.
USER_STOP_TIMEOUT_S = 10.0


def _rss_mb(pid: int) -> float | None:
    """Return the resident memory of a process and its children in MiB, None if it is gone."""
    import psutil

    try:
        process = psutil.Process(pid)
        total: int = process.memory_info().rss
        for child in process.children(recursive=True):
            total += child.memory_info().rss
    except psutil.Error:
        return None
    return round(total / 2**20, 1)


def _rate_at(stage: RateStage, elapsed_s: float) -> float:
    """Return the arrival rate a stage sets `elapsed_s` after its start."""
    fraction = min(max(elapsed_s / stage.duration_s, 0.0), 1.0)
    return stage.from_rps + (stage.to_rps - stage.from_rps) * fraction


__all__ = ["StageSpan", "Swarm", "SwarmResult", "SwarmState", "Tick", "TickHandler", "Timeline"]


class SwarmState(enum.Enum):
    """Lifecycle of a `Swarm`."""

    CREATED = "created"
    STARTED = "started"
    RUNNING = "running"
    STOPPED = "stopped"
    CLOSED = "closed"


TickHandler = Callable[[Tick, float | None], str | None]


class Swarm:
    """A Locust master running a profile against one host URL."""

    def __init__(self, locustfile: Path, host_url: str, bind_host: str, bind_port: int) -> None:
        self._locustfile = locustfile
        self._host_url = host_url
        self._bind_host = bind_host
        self._bind_port = bind_port
        self._state = SwarmState.CREATED
        self._collector = ReportCollector()
        self._joined: set[str] = set()
        self._environment: Any = None
        self._runner: Any = None
        self._window_start_s: float | None = None
        self._aborted_by: str | None = None
        self._target_pid: int | None = None

    @property
    def state(self) -> SwarmState:
        """The swarm's lifecycle state."""
        return self._state

    def watch_target(self, pid: int) -> None:
        """Sample the memory of the target process `pid` (and its children) every second."""
        self._target_pid = pid

    @property
    def collector(self) -> ReportCollector:
        """The collector that merges the workers' reports."""
        return self._collector

    def _require(self, *states: SwarmState) -> None:
        if self._state not in states:
            allowed = ", ".join(state.value for state in states)
            msg = f"swarm is {self._state.value}; this call needs it to be {allowed}"
            raise RuntimeError(msg)

    def start(self) -> None:
        """Load the locustfile and bind the master."""
        self._require(SwarmState.CREATED)
        from perfgate.swarm.locust_setup import configure_locust, load_user_classes

        configure_locust()
        from locust import events
        from locust.env import Environment

        from perfgate.swarm.handshake import MasterVersionCheck, local_versions
        from perfgate.swarm.plugin import install_master_plugin

        user_classes = load_user_classes(self._locustfile)
        self._environment = Environment(
            user_classes=user_classes,
            events=events,
            host=self._host_url,
            stop_timeout=USER_STOP_TIMEOUT_S,
        )
        install_master_plugin(self._environment, self._collector)
        try:
            self._runner = self._environment.create_master_runner(self._bind_host, self._bind_port)
        except Exception as exc:
            msg = f"Locust master failed to bind {self._bind_host}:{self._bind_port}: {exc}"
            raise SwarmError(msg) from exc
        self._versions = MasterVersionCheck(self._runner, local_versions())
        self._state = SwarmState.STARTED
        logger.info("Locust master bound to %s:%d", self._bind_host, self._bind_port)

    def wait_for_workers(
        self, count: int, timeout_s: float, check_processes: Callable[[], None]
    ) -> None:
        """Block until `count` workers are connected.

        Args:
            count: workers to wait for.
            timeout_s: how long to wait.
            check_processes: called on every poll; raises when a local worker died.

        Raises:
            SwarmError: fewer workers than `count` connected within `timeout_s`.
            VersionMismatchError: a worker runs other perfgate or Locust versions.
        """
        self._require(SwarmState.STARTED)
        import gevent

        deadline = time.monotonic() + timeout_s
        while len(self._versions.joined_workers()) < count:
            self._versions.raise_if_rejected()
            check_processes()
            if time.monotonic() > deadline:
                joined = len(self._versions.joined_workers())
                msg = (
                    f"only {joined} of {count} workers joined the master "
                    f"at {self._bind_host}:{self._bind_port} within {timeout_s:.0f} s; "
                    "check the worker logs or start fewer workers"
                )
                raise SwarmError(msg)
            gevent.sleep(POLL_S)
        self._joined = self._versions.joined_workers()
        logger.info("%d workers connected", len(self._joined))

    def run_profile(self, profile: Profile, on_tick: TickHandler) -> Timeline:
        """Run every stage of `profile`, then stop the users.

        Stage ends and the once-a-second samples follow one schedule counted from the
        run's start, so that they do not drift as stages change. `on_tick` receives
        each sample and the window's start once known; a string it returns (the
        failed threshold) ends the run early.
        """
        self._require(SwarmState.STARTED)
        self._state = SwarmState.RUNNING
        if profile.model is LoadModel.OPEN:
            return self._run_open_plan(profile, on_tick)
        schedule = Schedule.start_on_next_second()
        spans: list[StageSpan] = []
        window_start_s: float | None = None
        stage_end_offset_s = 0.0

        for stage in profile.stages:
            stage_end_offset_s += stage.duration_s
            span, reached_at_s = self._run_stage(
                stage, schedule, stage_end_offset_s, profile.warmup_s, on_tick
            )
            spans.append(span)
            if stage.measure and window_start_s is None and reached_at_s is not None:
                window_start_s = reached_at_s + profile.warmup_s
            if self._live_workers() == 0 or self._aborted_by is not None:
                break

        measured = [span for span in spans if span.measure]
        window_end_s = measured[-1].end_s if measured else spans[-1].end_s
        if window_start_s is not None and window_start_s >= window_end_s:
            window_start_s = None
        ended_at_s = self._stop_users()
        return Timeline(
            started_at_s=schedule.origin_s,
            ended_at_s=ended_at_s,
            stages=tuple(spans),
            window_start_s=window_start_s,
            window_end_s=window_end_s,
            ticks=tuple(schedule.ticks),
            aborted_by=self._aborted_by,
        )

    def _handle_tick(self, tick: Tick, schedule: Schedule, on_tick: TickHandler) -> bool:
        """Record a sample, pass it on, and return True when the run must end early."""
        schedule.ticks.append(tick)
        reason = on_tick(tick, self._window_start_s)
        if reason is not None and self._aborted_by is None:
            logger.warning("ending the run early: %s", reason)
            self._aborted_by = reason
        return self._aborted_by is not None

    def _run_stage(
        self,
        stage: Stage,
        schedule: Schedule,
        end_offset_s: float,
        warmup_s: float,
        on_tick: TickHandler,
    ) -> tuple[StageSpan, float | None]:
        """Move to the stage's user count and hold it until the stage's end on the schedule."""
        import gevent

        start_s = time.time()
        logger.info(
            "stage %s: %d users at %.1f/s for %.1f s",
            stage.name,
            stage.users,
            stage.spawn_rate,
            stage.duration_s,
        )
        spawner = gevent.spawn(self._runner.start, stage.users, stage.spawn_rate)
        reached_at_s: float | None = None
        deadline = schedule.origin_monotonic + end_offset_s

        while (now := time.monotonic()) < deadline:
            if reached_at_s is None and self._target_reached(stage.users):
                reached_at_s = time.time()
                if stage.measure and self._window_start_s is None:
                    self._window_start_s = reached_at_s + warmup_s
            if schedule.tick_due(now) and self._handle_tick(
                self._sample(stage.name), schedule, on_tick
            ):
                break
            if self._live_workers() == 0:
                logger.error("every worker is gone; ending the stage %s early", stage.name)
                break
            gevent.sleep(min(POLL_S, max(deadline - now, 0.0)))

        if not spawner.ready():
            spawner.kill(block=True)
        span = StageSpan(stage.name, start_s, time.time(), stage.users, stage.measure)
        return span, reached_at_s

    def _run_open_plan(self, profile: Profile, on_tick: TickHandler) -> Timeline:
        """Send every worker its share of the arrival plan, then follow it until it ends.

        The plan starts on a whole second at least `OPEN_START_DELAY_S` ahead, so that it
        reaches every worker before its first arrival is due.
        """
        plan = rate_stages(
            [(stage.duration_s, stage.rate or 0.0, stage.ramp) for stage in profile.stages]
        )
        origin_s = float(math.ceil(time.time() + OPEN_START_DELAY_S))
        workers = sorted(self._joined)
        slots = math.ceil(profile.max_in_flight / len(workers))
        for index, worker in enumerate(workers):
            message = OpenPlan(
                origin_s=origin_s,
                stages=[(stage.duration_s, stage.from_rps, stage.to_rps) for stage in plan],
                index=index,
                count=len(workers),
                max_in_flight=slots,
                drop_after_s=profile.drop_after_s,
                host=self._host_url,
            )
            self._runner.send_message(OPEN_START_MESSAGE, msgspec.to_builtins(message), worker)
        logger.info("open plan sent to %d workers; it starts at %.0f", len(workers), origin_s)

        measured_offsets = [
            sum(stage.duration_s for stage in profile.stages[:index])
            for index, stage in enumerate(profile.stages)
            if stage.measure
        ]
        self._window_start_s = origin_s + measured_offsets[0] + profile.warmup_s
        schedule = Schedule.start_at(origin_s)
        spans = self._follow_open_plan(profile, plan, schedule, on_tick)
        self._runner.send_message(OPEN_STOP_MESSAGE, None)
        measured = [span for span in spans if span.measure]
        window_start_s = self._window_start_s if measured else None
        window_end_s = measured[-1].end_s if measured else spans[-1].end_s
        if window_start_s is not None and window_start_s >= window_end_s:
            window_start_s = None
        return Timeline(
            started_at_s=origin_s,
            ended_at_s=time.time(),
            stages=tuple(spans),
            window_start_s=window_start_s,
            window_end_s=window_end_s,
            ticks=tuple(schedule.ticks),
            aborted_by=self._aborted_by,
        )

    def _follow_open_plan(
        self,
        profile: Profile,
        plan: list[RateStage],
        schedule: Schedule,
        on_tick: TickHandler,
    ) -> list[StageSpan]:
        """Sample once a second until the plan's end; stages are spans of the plan."""
        import gevent

        spans = []
        offset_s = 0.0
        for stage, rate_stage in zip(profile.stages, plan, strict=True):
            start_s = schedule.origin_s + offset_s
            offset_s += stage.duration_s
            deadline = schedule.origin_monotonic + offset_s
            while (now := time.monotonic()) < deadline:
                if schedule.tick_due(now):
                    elapsed_s = stage.duration_s - (deadline - now)
                    tick = self._sample(stage.name, _rate_at(rate_stage, elapsed_s))
                    if self._handle_tick(tick, schedule, on_tick):
                        spans.append(StageSpan(stage.name, start_s, time.time(), 0, stage.measure))
                        return spans
                if self._live_workers() == 0:
                    logger.error("every worker is gone; ending the open plan early")
                    spans.append(StageSpan(stage.name, start_s, time.time(), 0, stage.measure))
                    return spans
                gevent.sleep(min(POLL_S, max(deadline - now, 0.0)))
            spans.append(
                StageSpan(stage.name, start_s, schedule.origin_s + offset_s, 0, stage.measure)
            )
        return spans

    def _target_reached(self, users: int) -> bool:
        return bool(self._runner.spawning_completed) and self._runner.user_count == users

    def _live_workers(self) -> int:
        return sum(1 for client in self._runner.clients.values() if client.state != "missing")

    def _sample(self, stage_name: str, target_rps: float = 0.0) -> Tick:
        now_s = time.time()
        cpu = [float(client.cpu_usage) for client in self._runner.clients.values()]
        recent_second = int(now_s) - 2
        recent = self._collector.live_counts(recent_second).values()
        recent_p99_ms = self._recent_p99_ms(recent_second)
        return Tick(
            at_s=now_s,
            stage=stage_name,
            users=int(self._runner.user_count),
            cpu_max_percent=max(cpu, default=0.0),
            workers=self._live_workers(),
            recent_rps=sum(requests for requests, _ in recent),
            recent_failures=sum(failures for _, failures in recent),
            target_rps=round(target_rps, 3),
            recent_p99_ms=recent_p99_ms,
            master_rss_mb=_rss_mb(os.getpid()),
            target_rss_mb=None if self._target_pid is None else _rss_mb(self._target_pid),
        )

    def _recent_p99_ms(self, second: int) -> float | None:
        samples = self._collector.samples_between(second, second + 1)
        merged = merge(
            sample.histogram for sample in samples if not sample.endpoint.startswith(FLOW_PREFIX)
        )
        if merged.get_total_count() == 0:
            return None
        return percentile_ms(merged, 99.0)

    def _stop_users(self) -> float:
        """Tell every worker to stop; Locust waits until their users have stopped."""
        self._runner.stop()
        return time.time()

    def collect(self, timeout_s: float) -> SwarmResult:
        """Wait for every joined worker's final report, then take the final snapshot.

        Workers that send no final report within `timeout_s` count as lost.
        """
        self._require(SwarmState.RUNNING)
        import gevent

        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline and self._awaited_workers():
            gevent.sleep(POLL_S)
        lost = tuple(sorted(self._unfinished_workers()))
        if lost:
            logger.error("no final report from %d workers: %s", len(lost), ", ".join(lost))
        self._state = SwarmState.STOPPED
        return SwarmResult(
            snapshot=self._collector.snapshot(),
            joined_workers=tuple(sorted(self._joined)),
            lost_workers=lost,
            locust_requests=int(self._environment.stats.total.num_requests),
        )

    def _awaited_workers(self) -> list[str]:
        """Unfinished workers that may still report: connected and not marked missing."""
        clients = self._runner.clients
        return [
            worker
            for worker in self._unfinished_workers()
            if worker in clients and clients[worker].state != "missing"
        ]

    def _unfinished_workers(self) -> list[str]:
        accounts = self._collector.workers
        return [
            worker
            for worker in self._joined
            if not (worker in accounts and accounts[worker].finished)
        ]

    def close(self) -> None:
        """Send quit to every worker and shut the master down; safe to call twice."""
        if self._state in (SwarmState.CREATED, SwarmState.CLOSED):
            self._state = SwarmState.CLOSED
            return
        try:
            self._runner.quit()
        except Exception:
            logger.exception("Locust master failed to quit cleanly")
        self._state = SwarmState.CLOSED
