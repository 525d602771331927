"""Find the highest arrival rate that meets an SLO, with open-model steps.

The search runs short open-model runs (each one a full `perfgate run` with its own
measurement window). A coarse phase doubles the rate until a step misses the SLO;
a fine phase then bisects between the last rate that met it and the first that
did not, until the two are within `precision` of each other. A step whose generator
saturated (or lost a worker) proves nothing about the target: the search stops
there and reports the capacity as at least the last rate that met the SLO.

A step meets the SLO when the run is valid, every SLO threshold passes, and no
arrival was dropped (a dropped arrival is a request the target could not take).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from pathlib import Path

import msgspec

from perfgate.errors import ConfigError
from perfgate.results.store import new_run_id, write_atomic
from perfgate.swarm.run import RunOptions, RunOutcome, execute_run
from perfgate.swarm.timeline import Tick
from perfgate.thresholds import parse_threshold

logger = logging.getLogger(__name__)

CAPACITY_SCHEMA = "perfgate.capacity/1"
MAX_STEPS = 20


class CapacityStep(msgspec.Struct):
    """One rate tried: its run and whether it met the SLO."""

    rate_rps: float
    phase: str
    run_dir: str
    verdict: str
    met_slo: bool
    achieved_rps: float
    p50_ms: float
    p99_ms: float
    p999_ms: float
    fail_ratio: float
    dropped_arrivals: int
    invalid_reasons: list[str]


class CapacityResult(msgspec.Struct):
    """capacity.json: the answer and every step behind it.

    `max_rate_rps` is the highest rate that met the SLO (None when even the first
    rate missed it). `lower_bound` is true when the search stopped because the
    generator could not go further, so the true capacity may be higher.
    """

    schema: str
    slo: list[str]
    max_rate_rps: float | None
    lower_bound: bool
    stop_reason: str
    steps: list[CapacityStep]


@dataclasses.dataclass(frozen=True)
class CapacityOptions:
    """Options of `perfgate capacity`."""

    slo: tuple[str, ...]
    run: RunOptions
    start_rate_rps: float = 50.0
    max_rate_rps: float = 100_000.0
    step_duration_s: float = 10.0
    precision: float = 0.05


def _met_slo(outcome: RunOutcome) -> bool:
    record = outcome.record
    return (
        record.verdict == "pass"
        and record.generator.dropped_arrivals == 0
        and all(threshold.passed for threshold in record.thresholds)
    )


def _generator_failed(outcome: RunOutcome) -> bool:
    generator = outcome.record.generator
    return generator.saturated or generator.workers_lost > 0


def _step(
    options: CapacityOptions, rate_rps: float, phase: str, on_tick: Callable[[Tick], None]
) -> tuple[CapacityStep, RunOutcome]:
    run_options = dataclasses.replace(
        options.run,
        rate=rate_rps,
        users=None,
        duration_s=options.step_duration_s,
        thresholds=options.slo,
    )
    outcome = execute_run(run_options, on_tick)
    record = outcome.record
    step = CapacityStep(
        rate_rps=rate_rps,
        phase=phase,
        run_dir=str(outcome.run_dir),
        verdict=record.verdict,
        met_slo=_met_slo(outcome),
        achieved_rps=record.total.rps,
        p50_ms=record.total.latency_ms.p50,
        p99_ms=record.total.latency_ms.p99,
        p999_ms=record.total.latency_ms.p999,
        fail_ratio=record.total.fail_ratio,
        dropped_arrivals=record.generator.dropped_arrivals,
        invalid_reasons=list(record.invalid_reasons),
    )
    logger.info(
        "capacity step %.1f/s (%s): %s, p99 %.2f ms",
        rate_rps,
        phase,
        "met" if step.met_slo else "missed",
        step.p99_ms,
    )
    return step, outcome


def search_capacity(
    options: CapacityOptions, on_tick: Callable[[Tick], None]
) -> tuple[CapacityResult, Path]:
    """Run the coarse and fine phases; write capacity.json and the plot; return both.

    Raises:
        ConfigError: an SLO expression or a rate option is invalid.
    """
    if not options.slo:
        msg = "pass at least one --slo such as 'p99<50ms'"
        raise ConfigError(msg)
    for expression in options.slo:
        parse_threshold(expression)
    if not 0 < options.start_rate_rps <= options.max_rate_rps:
        msg = f"invalid --start-rate {options.start_rate_rps!r}: it must be > 0 and <= --max-rate"
        raise ConfigError(msg)

    steps: list[CapacityStep] = []
    good: float | None = None
    bad: float | None = None
    stop_reason = ""
    lower_bound = False
    rate = options.start_rate_rps

    while len(steps) < MAX_STEPS:
        phase = "coarse" if bad is None else "fine"
        step, outcome = _step(options, rate, phase, on_tick)
        steps.append(step)
        if _generator_failed(outcome):
            lower_bound = True
            stop_reason = f"the generator could not keep up at {rate:g}/s: " + "; ".join(
                step.invalid_reasons
            )
            break
        if step.met_slo:
            good = rate
        else:
            bad = rate
        if bad is None:
            if rate >= options.max_rate_rps:
                lower_bound = True
                stop_reason = f"met the SLO up to --max-rate {options.max_rate_rps:g}/s"
                break
            rate = min(rate * 2, options.max_rate_rps)
            continue
        if good is None:
            stop_reason = f"the first rate, {options.start_rate_rps:g}/s, already missed the SLO"
            break
        if (bad - good) / good <= options.precision:
            stop_reason = (
                f"bracketed within {options.precision:.0%}: met at {good:g}/s, missed at {bad:g}/s"
            )
            break
        rate = (good + bad) / 2
    else:
        stop_reason = f"stopped after {MAX_STEPS} steps"

    result = CapacityResult(
        schema=CAPACITY_SCHEMA,
        slo=list(options.slo),
        max_rate_rps=good,
        lower_bound=lower_bound,
        stop_reason=stop_reason,
        steps=steps,
    )
    folder = options.run.out / f"capacity-{new_run_id()}"
    folder.mkdir(parents=True, exist_ok=False)
    write_atomic(
        folder / "capacity.json", msgspec.json.format(msgspec.json.encode(result), indent=2) + b"\n"
    )
    from perfgate.capacity.plot import write_capacity_plot

    write_capacity_plot(result, folder / "capacity.svg")
    return result, folder
