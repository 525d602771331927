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
    """One endpoint over the measurement window (`name` is `total` for the sum)."""

    name: str
    requests: int
    failures: int
    rps: float
    fail_ratio: float
    latency_ms: LatencyMs
    errors: dict[str, int] = {}


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
        saturated: whether `cpu_max_percent` reached the profile's limit.
        dropped_arrivals: arrivals that could not start (open model only; 0 otherwise).
        requests_recorded: requests the workers recorded over the whole run.
        requests_received: requests whose samples reached the master.
        locust_requests: requests counted by Locust's own statistics, for cross-checking.
        rejected_reports: worker reports the master could not read.
    """

    workers: int
    workers_lost: int
    cpu_max_percent: float
    saturated: bool
    dropped_arrivals: int
    requests_recorded: int
    requests_received: int
    locust_requests: int
    rejected_reports: int


class WindowInfo(msgspec.Struct):
    """The measurement window in seconds since the run started (whole seconds)."""

    start_s: float
    end_s: float
    steady: bool


class StageInfo(msgspec.Struct):
    """One stage as it ran, in seconds since the run started."""

    name: str
    start_s: float
    end_s: float
    users: int
    measure: bool


class ProfileInfo(msgspec.Struct):
    """The profile that drove the run."""

    name: str
    path: str
    description: str
    warmup_s: float
    stages: list[StageInfo]


class ThresholdInfo(msgspec.Struct):
    """One judged threshold; `value` is None when it could not be computed."""

    expr: str
    value: float | None
    passed: bool


class RunRecord(msgspec.Struct):
    """Everything `perfgate run` stores in run.json."""

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
