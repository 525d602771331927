"""Intended start times of open-model arrivals, split exactly across workers.

Every worker computes the same global schedule from the stages and keeps every
`count`-th arrival starting at its own index, so the workers together offer exactly
the profile's rate, their arrivals interleave evenly, and no coordination is needed
beyond the shared start time.

Arrival k (k = 0, 1, 2, ...) is due when the cumulative arrivals N(t) = integral of the
rate reach k: a constant stage spaces arrivals 1/rate apart; a ramp whose rate moves
linearly from r0 to r1 over D seconds solves r0*t + (r1 - r0)*t^2/(2D) = n for t.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterator, Sequence

# An arrival that a worker's scheduler starts more than this late counts as late: the
# worker itself was too busy to keep to its schedule.
LATE_TOLERANCE_S = 0.010


@dataclasses.dataclass(frozen=True)
class RateStage:
    """One stage of an arrival plan: the rate moves from `from_rps` to `to_rps`."""

    duration_s: float
    from_rps: float
    to_rps: float


def rate_stages(stages: Sequence[tuple[float, float, bool]]) -> list[RateStage]:
    """Turn (duration_s, rate, ramp) triples into stages with explicit start rates."""
    plan = []
    previous_rps = 0.0
    for duration_s, rate, ramp in stages:
        plan.append(RateStage(duration_s, previous_rps if ramp else rate, rate))
        previous_rps = rate
    return plan


def _offset_in_stage(stage: RateStage, arrivals_into_stage: float) -> float | None:
    """Return when, after the stage's start, the given cumulative arrival count is reached."""
    slope = (stage.to_rps - stage.from_rps) / stage.duration_s
    if abs(slope) < 1e-12:
        if stage.from_rps <= 0:
            return None
        offset = arrivals_into_stage / stage.from_rps
    else:
        discriminant = stage.from_rps**2 + 2.0 * slope * arrivals_into_stage
        if discriminant < 0:
            return None
        offset = (-stage.from_rps + math.sqrt(discriminant)) / slope
    return offset if offset < stage.duration_s else None


def _stage_arrivals(stage: RateStage) -> float:
    return (stage.from_rps + stage.to_rps) / 2.0 * stage.duration_s


def arrival_offsets(plan: Sequence[RateStage], index: int, count: int) -> Iterator[float]:
    """Yield this worker's arrival times in seconds after the plan's start, in order.

    Args:
        plan: the stages.
        index: this worker's position, 0 <= index < count.
        count: how many workers share the plan.
    """
    if not 0 <= index < count:
        msg = f"worker index {index} is outside 0..{count - 1}"
        raise ValueError(msg)

    stage_start_s = 0.0
    arrivals_before = 0.0  # cumulative arrivals (fractional) at the stage's start
    arrival = index
    for stage in plan:
        while True:
            offset = _offset_in_stage(stage, arrival - arrivals_before)
            if offset is None:
                break
            yield stage_start_s + offset
            arrival += count
        stage_start_s += stage.duration_s
        arrivals_before += _stage_arrivals(stage)


def total_duration_s(plan: Sequence[RateStage]) -> float:
    """Return the plan's length in seconds."""
    return sum(stage.duration_s for stage in plan)
