"""Profile records: the load model, its stages, and the thresholds a run must meet."""

from __future__ import annotations

import dataclasses
import enum
from pathlib import Path

DEFAULT_MAX_GENERATOR_CPU_PERCENT = 90.0
DEFAULT_MAX_IN_FLIGHT = 256
DEFAULT_DROP_AFTER_S = 1.0
DEFAULT_ABORT_DELAY_S = 5.0


class LoadModel(enum.Enum):
    """Load model: the way load is offered.

    CLOSED: a fixed number of users, each sending its next request after the previous
    one ends, so a slow target receives fewer requests. OPEN: requests (flows) start
    at a given arrival rate whatever the target does, as real independent clients do.
    """

    CLOSED = "closed"
    OPEN = "open"


@dataclasses.dataclass(frozen=True)
class Stage:
    """One step of a profile: hold `users` (closed model) or `rate` (open model).

    Attributes:
        name: label shown in the time series (`ramp`, `steady`...).
        duration_s: how long the stage lasts, counted from the stage's start.
        users: concurrent users to reach and hold over all workers (closed model).
        spawn_rate: users started (or stopped) per second while moving to `users`.
        measure: whether the stage belongs to the measurement window.
        rate: arrivals per second over all workers (open model), else None.
        ramp: whether the rate moves linearly from the previous stage's rate (0 for
            the first stage) to `rate` over the stage, instead of jumping to it.
    """

    name: str
    duration_s: float
    users: int
    spawn_rate: float
    measure: bool
    rate: float | None = None
    ramp: bool = False


@dataclasses.dataclass(frozen=True)
class Profile:
    """A validated load profile.

    Attributes:
        name: profile name, the file name without `.toml` unless the file sets one.
        path: file the profile was read from.
        description: one line for reports.
        locustfile: the Locust file to run, when the profile names one.
        stages: stages in order; the measured ones are contiguous.
        warmup_s: time excluded after the measured stages' user count is first
            reached, so that connection set-up and cold caches stay outside the window.
        thresholds: pass/fail expressions such as `p99 < 50ms`.
        max_generator_cpu_percent: worker CPU above which the generator counts as
            saturated and the run as invalid.
        model: closed (users) or open (arrival rate).
        max_in_flight: open model: flows running at once over all workers; an arrival
            that finds them all busy waits for one.
        drop_after_s: open model: how long an arrival may wait for a free slot before
            it is counted as dropped.
        abort_on_fail: whether to end the run as soon as a threshold fails on the part
            of the window seen so far.
        abort_delay_s: how much of the window to see before judging for an abort.
    """

    name: str
    path: Path
    description: str
    locustfile: Path | None
    stages: tuple[Stage, ...]
    warmup_s: float
    thresholds: tuple[str, ...]
    max_generator_cpu_percent: float = DEFAULT_MAX_GENERATOR_CPU_PERCENT
    model: LoadModel = LoadModel.CLOSED
    max_in_flight: int = DEFAULT_MAX_IN_FLIGHT
    drop_after_s: float = DEFAULT_DROP_AFTER_S
    abort_on_fail: bool = False
    abort_delay_s: float = DEFAULT_ABORT_DELAY_S

    @property
    def duration_s(self) -> float:
        """Total length of all stages in seconds."""
        return sum(stage.duration_s for stage in self.stages)

    @property
    def max_users(self) -> int:
        """The largest user count of any stage."""
        return max(stage.users for stage in self.stages)
