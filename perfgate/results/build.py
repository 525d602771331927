"""Turn the swarm's final snapshot into run.json, the time series and the interval log.

Every output of a run comes from the one `CollectorSnapshot` taken after all final
worker reports arrived (or the wait for them ran out), so the terminal summary,
run.json, timeseries.csv and histograms.hlog always agree.

The measurement window is cut at whole seconds: a sample belongs to the second in
which its request completed, and only seconds wholly inside the window count.
"""

from __future__ import annotations

import dataclasses
import math
from collections import defaultdict
from datetime import UTC, datetime

from hdrh.histogram import HdrHistogram

from perfgate.histograms.histogram import new_histogram, summarize
from perfgate.histograms.hlog import IntervalHistogram
from perfgate.profiles.model import LoadModel, Profile
from perfgate.results.schema import (
    RUN_SCHEMA,
    EndpointResult,
    GeneratorInfo,
    LatencyMs,
    ProfileInfo,
    RunRecord,
    StageInfo,
    TargetInfo,
    ThresholdInfo,
    WindowInfo,
)
from perfgate.swarm.arrivals import LATE_TOLERANCE_S
from perfgate.swarm.collector import SecondSample
from perfgate.swarm.master import SwarmResult, Timeline
from perfgate.swarm.wire import FLOW_PREFIX
from perfgate.thresholds import judge, parse_threshold

TOTAL = "total"
WINDOW_SLACK_S = 0.05
MAX_LATE_ARRIVAL_RATIO = 0.01
UNCORRECTED_TAG_SUFFIX = "#uncorrected"
HTTP_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT"})


@dataclasses.dataclass(frozen=True)
class RunInputs:
    """Run facts that the snapshot does not contain: id, profile, target, environment."""

    run_id: str
    profile: Profile
    target: TargetInfo
    environment: dict[str, object]
    extra_thresholds: tuple[str, ...] = ()
    extra_invalid_reasons: tuple[str, ...] = ()


@dataclasses.dataclass
class EndpointAccumulator:
    """Running sums and merged histograms of one endpoint's samples."""

    requests: int = 0
    failures: int = 0
    histogram: HdrHistogram = dataclasses.field(default_factory=new_histogram)
    uncorrected: HdrHistogram | None = None
    errors: dict[str, int] = dataclasses.field(default_factory=dict)
    response_bytes: int = 0

    def add(self, sample: SecondSample) -> None:
        """Add one second's sample."""
        self.requests += sample.requests
        self.failures += sample.failures
        self.response_bytes += sample.response_bytes
        self.histogram.add(sample.histogram)
        if sample.uncorrected is not None:
            if self.uncorrected is None:
                self.uncorrected = new_histogram()
            self.uncorrected.add(sample.uncorrected)
        for message, count in sample.errors.items():
            self.errors[message] = self.errors.get(message, 0) + count

    def result(self, name: str, duration_s: float, *, open_model: bool) -> EndpointResult:
        """Summarize as run.json's endpoint record over `duration_s` seconds."""
        uncorrected = None
        if open_model:
            uncorrected_summary = summarize(self.uncorrected or new_histogram())
            uncorrected = LatencyMs(**uncorrected_summary.as_dict())
        return EndpointResult(
            name=name,
            requests=self.requests,
            failures=self.failures,
            rps=round(self.requests / duration_s, 3) if duration_s > 0 else 0.0,
            fail_ratio=round(self.failures / self.requests, 6) if self.requests else 0.0,
            latency_ms=LatencyMs(**summarize(self.histogram).as_dict()),
            errors=dict(sorted(self.errors.items(), key=lambda item: -item[1])),
            latency_uncorrected_ms=uncorrected,
            bytes_received=self.response_bytes,
            bandwidth_bytes_per_s=(
                round(self.response_bytes / duration_s, 1) if duration_s > 0 else 0.0
            ),
        )


def is_flow(endpoint: str) -> bool:
    """Return whether an endpoint name stands for a whole multi-request flow."""
    return endpoint.startswith(FLOW_PREFIX)


def counts_in_total(endpoint: str) -> bool:
    """Return whether an endpoint is an HTTP request that the total sums.

    Flows (`FLOW <task>`) and measurements that a locustfile records under another
    request type (such as `QUEUE end-to-end`) are listed on their own, because adding
    them would count one HTTP request twice or mix other latencies into the total.
    """
    method = endpoint.split(" ", 1)[0]
    return method in HTTP_METHODS


def window_seconds(timeline: Timeline) -> tuple[int, int]:
    """Return the window as [first, end) whole epoch seconds; empty when never steady."""
    if timeline.window_start_s is None:
        return 0, 0
    # A start a few milliseconds past a whole second (scheduling delay) still counts
    # from that second, rather than losing the whole second.
    first = math.ceil(timeline.window_start_s - WINDOW_SLACK_S)
    end = math.floor(timeline.window_end_s)
    return first, max(first, end)


def build_record(inputs: RunInputs, timeline: Timeline, result: SwarmResult) -> RunRecord:
    """Build run.json's record: window summaries, generator health, thresholds, verdict."""
    first, end = window_seconds(timeline)
    duration_s = float(end - first)
    open_model = inputs.profile.model is LoadModel.OPEN
    per_endpoint: dict[str, EndpointAccumulator] = defaultdict(EndpointAccumulator)
    total = EndpointAccumulator()
    for sample in result.snapshot.samples:
        if first <= sample.second < end:
            per_endpoint[sample.endpoint].add(sample)
            if counts_in_total(sample.endpoint):
                total.add(sample)

    endpoints = [
        per_endpoint[name].result(name, duration_s, open_model=open_model)
        for name in sorted(per_endpoint)
    ]
    total_result = total.result(TOTAL, duration_s, open_model=open_model)
    generator = _generator_info(inputs.profile, timeline, result)
    reasons = [
        *inputs.extra_invalid_reasons,
        *_invalid_reasons(inputs.profile, timeline, result, generator, total_result),
    ]
    thresholds = _judge_thresholds(inputs, total_result, endpoints, valid=not reasons)

    if reasons:
        verdict = "invalid"
    elif timeline.aborted_by is None and all(threshold.passed for threshold in thresholds):
        verdict = "pass"
    else:
        verdict = "fail"

    return RunRecord(
        schema=RUN_SCHEMA,
        run_id=inputs.run_id,
        started_at=_iso(timeline.started_at_s),
        ended_at=_iso(timeline.ended_at_s),
        verdict=verdict,
        invalid_reasons=reasons,
        profile=_profile_info(inputs.profile, timeline),
        target=inputs.target,
        environment=inputs.environment,
        generator=generator,
        window=WindowInfo(
            start_s=round(first - timeline.started_at_s, 3) if duration_s else 0.0,
            end_s=round(end - timeline.started_at_s, 3) if duration_s else 0.0,
            steady=timeline.steady,
        ),
        total=total_result,
        endpoints=endpoints,
        thresholds=thresholds,
        aborted_by=timeline.aborted_by,
    )


def _generator_info(profile: Profile, timeline: Timeline, result: SwarmResult) -> GeneratorInfo:
    first, end = window_seconds(timeline)
    window_cpu = [tick.cpu_max_percent for tick in timeline.ticks if first <= tick.second < end]
    cpu_max = round(max(window_cpu, default=0.0), 1)
    accounts = result.snapshot.workers
    arrivals = sum(account.arrivals for account in accounts)
    late = sum(account.late_arrivals for account in accounts)
    late_ratio = late / arrivals if arrivals else 0.0
    return GeneratorInfo(
        workers=len(result.joined_workers),
        workers_lost=len(result.lost_workers),
        cpu_max_percent=cpu_max,
        saturated=(
            cpu_max >= profile.max_generator_cpu_percent or late_ratio > MAX_LATE_ARRIVAL_RATIO
        ),
        dropped_arrivals=sum(account.dropped_arrivals for account in accounts),
        requests_recorded=sum(
            sample.requests for sample in result.snapshot.samples if not is_flow(sample.endpoint)
        ),
        samples_lost=sum(account.lost_requests for account in accounts),
        locust_requests=result.locust_requests,
        rejected_reports=result.snapshot.rejected_reports,
        arrivals=arrivals,
        late_arrivals=late,
    )


def _invalid_reasons(
    profile: Profile,
    timeline: Timeline,
    result: SwarmResult,
    generator: GeneratorInfo,
    total: EndpointResult,
) -> list[str]:
    reasons = []
    if not timeline.steady:
        measured_users = max(stage.users for stage in profile.stages if stage.measure)
        reasons.append(
            f"steady state never reached: the swarm did not hold {measured_users} users for "
            "a whole second of the measured stages after the warm-up"
        )
    if result.lost_workers:
        reasons.append(
            f"{len(result.lost_workers)} worker(s) lost: no final report from "
            f"{', '.join(result.lost_workers)}"
        )
    if generator.cpu_max_percent >= profile.max_generator_cpu_percent:
        reasons.append(
            f"load generator saturated: a worker reached {generator.cpu_max_percent}% CPU "
            f"(limit {profile.max_generator_cpu_percent}%); add workers or lower the load"
        )
    elif generator.saturated:
        reasons.append(
            f"load generator fell behind its schedule: {generator.late_arrivals} of "
            f"{generator.arrivals} arrivals started over "
            f"{LATE_TOLERANCE_S * 1000:.0f} ms late; add workers or lower the rate"
        )
    if generator.samples_lost and not result.lost_workers:
        reasons.append(f"{generator.samples_lost} recorded samples never reached the master")
    if generator.rejected_reports:
        reasons.append(f"{generator.rejected_reports} worker reports could not be read")
    if timeline.steady and total.requests == 0:
        reasons.append("no request completed inside the measurement window")
    return reasons


def _judge_thresholds(
    inputs: RunInputs, total: EndpointResult, endpoints: list[EndpointResult], *, valid: bool
) -> list[ThresholdInfo]:
    expressions = [*inputs.profile.thresholds, *inputs.extra_thresholds]
    parsed = [parse_threshold(expression) for expression in expressions]
    judged = judge(parsed, *threshold_tables(total, endpoints))
    # An invalid run proves nothing, so none of its thresholds counts as passed.
    return [ThresholdInfo(item.expr, item.value, item.passed and valid) for item in judged]


def threshold_tables(
    total: EndpointResult, endpoints: list[EndpointResult]
) -> tuple[dict[str, float], dict[str, dict[str, float]]]:
    """Flatten results into the metric tables that `perfgate.thresholds.judge` reads."""
    return _flat(total), {endpoint.name: _flat(endpoint) for endpoint in endpoints}


def _flat(result: EndpointResult) -> dict[str, float]:
    flat: dict[str, float] = {
        "requests": result.requests,
        "failures": result.failures,
        "rps": result.rps,
        "fail_ratio": result.fail_ratio,
    }
    flat.update(msgspec_to_dict(result.latency_ms))
    return flat


def msgspec_to_dict(latency: LatencyMs) -> dict[str, float]:
    """Return latency statistics as a plain dict keyed by statistic name."""
    return {field: getattr(latency, field) for field in latency.__struct_fields__}


def _profile_info(profile: Profile, timeline: Timeline) -> ProfileInfo:
    return ProfileInfo(
        name=profile.name,
        path=str(profile.path),
        description=profile.description,
        warmup_s=profile.warmup_s,
        stages=[
            StageInfo(
                name=span.name,
                start_s=round(span.start_s - timeline.started_at_s, 3),
                end_s=round(span.end_s - timeline.started_at_s, 3),
                users=span.users,
                measure=span.measure,
                rate=stage.rate,
            )
            for span, stage in zip(timeline.stages, profile.stages, strict=False)
        ],
        model=profile.model.value,
    )


def _iso(epoch_s: float) -> str:
    moment = datetime.fromtimestamp(epoch_s, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def interval_histograms(result: SwarmResult) -> list[IntervalHistogram]:
    """Return one interval histogram per endpoint and second, in time order.

    Open-model runs add each endpoint's uncorrected latencies under the tag
    `<endpoint>#uncorrected`; the plain tag contains the corrected ones.
    """
    intervals = []
    for sample in result.snapshot.samples:
        second = float(sample.second)
        intervals.append(IntervalHistogram(sample.endpoint, second, 1.0, sample.histogram))
        if sample.uncorrected is not None:
            tag = sample.endpoint + UNCORRECTED_TAG_SUFFIX
            intervals.append(IntervalHistogram(tag, second, 1.0, sample.uncorrected))
    return intervals
