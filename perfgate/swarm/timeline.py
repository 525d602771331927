"""Records of a run as the master saw it: per-second samples, stage spans, the window."""

from __future__ import annotations

import dataclasses
import math
import time

from perfgate.swarm.collector import CollectorSnapshot

TICK_S = 1.0


@dataclasses.dataclass(frozen=True)
class Tick:
    """The swarm's state sampled once a second.

    Attributes:
        at_s: wall-clock time of the sample, seconds since the epoch.
        stage: name of the stage running then.
        users: users running on all workers, as the workers last reported.
        cpu_max_percent: the busiest worker's CPU use (100 is one full core).
        workers: workers connected and not missing.
        recent_rps: requests completed in the second before last, as received so far;
            for progress display only, since reports lag by up to a second.
        recent_failures: failures in that same second.
        target_rps: open model: the arrival rate the plan sets at this moment.
        recent_p99_ms: p99 over all endpoints in that same second, None without data.
        master_rss_mb: resident memory of the perfgate process (the Locust master), MiB.
        target_rss_mb: resident memory of the target and its children when perfgate
            started it, MiB; None otherwise.
    """

    at_s: float
    stage: str
    users: int
    cpu_max_percent: float
    workers: int
    recent_rps: int = 0
    recent_failures: int = 0
    target_rps: float = 0.0
    recent_p99_ms: float | None = None
    master_rss_mb: float | None = None
    target_rss_mb: float | None = None

    @property
    def second(self) -> int:
        """The epoch second this sample describes: the one that ended just before it."""
        return round(self.at_s) - 1


@dataclasses.dataclass(frozen=True)
class StageSpan:
    """When one stage ran, in seconds since the epoch."""

    name: str
    start_s: float
    end_s: float
    users: int
    measure: bool


@dataclasses.dataclass(frozen=True)
class Timeline:
    """The run's course: stage spans, window and samples, in seconds since the epoch.

    Attributes:
        started_at_s: when the first stage started.
        ended_at_s: when every worker had stopped or the stop wait ran out.
        stages: each stage's span.
        window_start_s: when steady state began (target load reached plus the
            warm-up); None when it was never reached.
        window_end_s: end of the last measured stage, or the moment of an abort.
        ticks: the per-second samples.
        aborted_by: what stopped the run early, if anything: a failed threshold's
            expression or the reason the run became invalid.
    """

    started_at_s: float
    ended_at_s: float
    stages: tuple[StageSpan, ...]
    window_start_s: float | None
    window_end_s: float
    ticks: tuple[Tick, ...]
    aborted_by: str | None = None

    @property
    def steady(self) -> bool:
        """Whether the measurement window contains at least one whole second."""
        if self.window_start_s is None:
            return False
        return math.floor(self.window_end_s) - math.ceil(self.window_start_s) >= 1


@dataclasses.dataclass(frozen=True)
class SwarmResult:
    """The final snapshot of a run and the workers that never sent their final report."""

    snapshot: CollectorSnapshot
    joined_workers: tuple[str, ...]
    lost_workers: tuple[str, ...]
    locust_requests: int


@dataclasses.dataclass
class Schedule:
    """The run's clock: its origin on a whole second, and the next sample time."""

    origin_s: float
    origin_monotonic: float
    next_tick_monotonic: float
    ticks: list[Tick] = dataclasses.field(default_factory=list)

    @classmethod
    def start_on_next_second(cls) -> Schedule:
        """Wait for the next whole wall-clock second, so samples line up with seconds."""
        return cls.start_at(math.ceil(time.time()))

    @classmethod
    def start_at(cls, origin_s: float) -> Schedule:
        """Wait until the wall-clock time `origin_s` and start the schedule there."""
        import gevent

        gevent.sleep(max(origin_s - time.time(), 0.0))
        origin_monotonic = time.monotonic()
        return cls(time.time(), origin_monotonic, origin_monotonic + TICK_S)

    def tick_due(self, now_monotonic: float) -> bool:
        """Return True once per second of the schedule, then advance it."""
        if now_monotonic < self.next_tick_monotonic:
            return False
        self.next_tick_monotonic += TICK_S
        return True
