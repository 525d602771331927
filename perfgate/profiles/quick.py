"""Profiles built from command-line options, for a quick run without a profile file."""

from __future__ import annotations

import math
from pathlib import Path

from perfgate.errors import ConfigError
from perfgate.profiles.model import (
    DEFAULT_DROP_AFTER_S,
    DEFAULT_MAX_IN_FLIGHT,
    LoadModel,
    Profile,
    Stage,
)

QUICK_LEAD_IN_S = 2.0


def quick_profile(
    *,
    rate: float | None,
    users: int | None,
    spawn_rate: float | None,
    duration_s: float,
    max_in_flight: int | None,
    locustfile: Path | None,
) -> Profile:
    """Build a two-stage profile: an unmeasured lead-in, then `duration_s` of measurement.

    With `rate`, an open model: the lead-in runs at the same rate for 2 s. With
    `users`, a closed model: the lead-in spawns the users (at `spawn_rate`, by default
    all within a second) and keeps them running for 2 s more.

    Raises:
        ConfigError: both or neither of `rate` and `users` are set, or a value is out
            of range; the message names the option.
    """
    if (rate is None) == (users is None):
        msg = "pass exactly one of --rate (open model) and --users (closed model) for a quick run"
        raise ConfigError(msg)
    if not math.isfinite(duration_s) or duration_s <= 0:
        msg = f"invalid --duration {duration_s!r}: the measurement needs a duration > 0"
        raise ConfigError(msg)
    if spawn_rate is not None and (not math.isfinite(spawn_rate) or spawn_rate <= 0):
        msg = f"invalid --spawn-rate {spawn_rate!r}: pass users per second > 0"
        raise ConfigError(msg)

    if rate is not None:
        if not math.isfinite(rate) or rate <= 0:
            msg = f"invalid --rate {rate!r}: pass arrivals per second > 0"
            raise ConfigError(msg)
        stages = (
            Stage("lead-in", QUICK_LEAD_IN_S, 0, 0.0, measure=False, rate=rate),
            Stage("steady", duration_s, 0, 0.0, measure=True, rate=rate),
        )
        model = LoadModel.OPEN
        name = f"quick-open-{rate:g}rps-{duration_s:g}s"
    else:
        assert users is not None
        if users < 1:
            msg = f"invalid --users {users!r}: pass 1 or more"
            raise ConfigError(msg)
        per_second = spawn_rate or float(users)
        ramp_s = math.ceil(users / per_second) + QUICK_LEAD_IN_S
        stages = (
            Stage("ramp", ramp_s, users, per_second, measure=False),
            Stage("steady", duration_s, users, per_second, measure=True),
        )
        model = LoadModel.CLOSED
        name = f"quick-closed-{users}users-{duration_s:g}s"

    # The name carries the load, so that the gate and the history never compare
    # quick runs of different loads as if they were repeats of one profile.
    return Profile(
        name=name,
        path=Path("<command line>"),
        description="built from command-line options",
        locustfile=locustfile,
        stages=stages,
        warmup_s=0.0,
        thresholds=(),
        model=model,
        max_in_flight=max_in_flight or DEFAULT_MAX_IN_FLIGHT,
        drop_after_s=DEFAULT_DROP_AFTER_S,
    )
