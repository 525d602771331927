"""The run.json record, schema `perfgate.run/1`.

Field names are a public contract: CI jobs, the gate and the report read them.
Latencies are in milliseconds; rates in requests per second; times in seconds.
"""

from __future__ import annotations

import msgspec

RUN_SCHEMA = "perfgate.run/1"


class LatencyMs(msgspec.Struct):
    """Latency statistics in milliseconds; every percentile lies in [min, max]."""

    min: float
    mean: float
    p50: float
    p90: float
    p99: float
    p999: float
    max: float


class EndpointResult(msgspec.Struct):
    """One endpoint over the measurement window (`name` is `total` for the sum).

    In open-model runs `latency_ms` counts from each request's intended start
    (corrected for coordinated omission) and `latency_uncorrected_ms` from the actual
    send; closed-model runs have only `latency_ms`, from the actual send. Endpoints
    named `FLOW <task>` time whole multi-request flows and are not part of `total`.
    """

    name: str
    requests: int
    failures: int
    rps: float
    fail_ratio: float
    latency_ms: LatencyMs
    errors: dict[str, int] = {}
    latency_uncorrected_ms: LatencyMs | None = None
    bytes_received: int = 0
    bandwidth_bytes_per_s: float = 0.0


class TargetInfo(msgspec.Struct):
    """The target measured; `variant` and the others are None for an external --host."""

    url: str
    started_by_perfgate: bool
    variant: str | None = None
    codec: str | None = None
    loop: str | None = None
    db: str | None = None
    router: str | None = None
    shards: int | None = None


class GeneratorInfo(msgspec.Struct):
    """The load generator's health; a saturated or lossy generator invalidates a run.

    Attributes:
        workers: workers that joined the run.
        workers_lost: workers whose final report never arrived.
        cpu_max_percent: the busiest worker's CPU inside the window (100 = one core).
        saturated: whether the generator could not keep up: `cpu_max_percent` reached
            the profile's limit, or (open model) over 1% of arrivals started late.
        dropped_arrivals: open model: arrivals that found no free slot within the wait
            limit and never started, over the whole run; 0 in the closed model.
        arrivals: open model: arrivals due over the whole run.
        late_arrivals: open model: arrivals that the workers' schedulers started late.
        requests_recorded: HTTP requests merged on the master over the whole run.
        samples_lost: samples the workers recorded that never reached the master.
        locust_requests: requests counted by Locust's own statistics, for cross-checking.
        rejected_reports: worker reports the master could not read.
    """

    workers: int
    workers_lost: int
    cpu_max_percent: float
    saturated: bool
    dropped_arrivals: int
    requests_recorded: int
    samples_lost: int
    locust_requests: int
    rejected_reports: int
    arrivals: int = 0
    late_arrivals: int = 0


class WindowInfo(msgspec.Struct):
    """The measurement window in seconds since the run started (whole seconds)."""

    start_s: float
    end_s: float
    steady: bool


class StageInfo(msgspec.Struct):
    """One stage as it ran, in seconds since the run started; `rate` is open-model only."""

    name: str
    start_s: float
    end_s: float
    users: int
    measure: bool
    rate: float | None = None


class ProfileInfo(msgspec.Struct):
    """The profile that drove the run; `model` is `closed` (users) or `open` (rate)."""

    name: str
    path: str
    description: str
    warmup_s: float
    stages: list[StageInfo]
    model: str = "closed"


class ThresholdInfo(msgspec.Struct):
    """One judged threshold; `value` is None when it could not be computed."""

    expr: str
    value: float | None
    passed: bool


class RunRecord(msgspec.Struct):
    """Everything `perfgate run` stores in run.json.

    `aborted_by` names what ended the run early, if anything did: the expression of a
    failed threshold, or the reason the run became invalid (a process that exited).
    """

    schema: str
    run_id: str
    started_at: str
    ended_at: str
    verdict: str
    invalid_reasons: list[str]
    profile: ProfileInfo
    target: TargetInfo
    environment: dict[str, object]
    generator: GeneratorInfo
    window: WindowInfo
    total: EndpointResult
    endpoints: list[EndpointResult]
    thresholds: list[ThresholdInfo]
    aborted_by: str | None = None
