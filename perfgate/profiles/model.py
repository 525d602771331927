"""Profile records: stages of a closed-model load and the thresholds a run must meet."""

from __future__ import annotations

import dataclasses
from pathlib import Path

DEFAULT_MAX_GENERATOR_CPU_PERCENT = 90.0


@dataclasses.dataclass(frozen=True)
class Stage:
    """One step of a closed-model profile: hold `users` for `duration_s`.

    Attributes:
        name: label shown in the time series (`ramp`, `steady`...).
        duration_s: how long the stage lasts, counted from the stage's start.
        users: concurrent users to reach and hold, over all workers.
        spawn_rate: users started (or stopped) per second while moving to `users`.
        measure: whether the stage belongs to the measurement window.
    """

    name: str
    duration_s: float
    users: int
    spawn_rate: float
    measure: bool


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
    """

    name: str
    path: Path
    description: str
    locustfile: Path | None
    stages: tuple[Stage, ...]
    warmup_s: float
    thresholds: tuple[str, ...]
    max_generator_cpu_percent: float = DEFAULT_MAX_GENERATOR_CPU_PERCENT

    @property
    def duration_s(self) -> float:
        """Total length of all stages in seconds."""
        return sum(stage.duration_s for stage in self.stages)

    @property
    def max_users(self) -> int:
        """The largest user count any stage asks for."""
        return max(stage.users for stage in self.stages)
