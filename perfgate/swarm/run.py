"""`perfgate run`: start what is needed, run the profile, write the results.

The steps, in order:

1. Load and validate the profile and thresholds (exit 2 on an error).
2. Start the target on a free loopback port, or check that `--host` responds.
3. Bind the Locust master in this process and start the local workers.
4. Run the stages, sampling users and worker CPU once a second.
5. Stop the users, wait for every worker's final report, take the one snapshot.
6. Write run.json, timeseries.csv and histograms.hlog from that snapshot.

Every child process is stopped on the way out, on errors and Ctrl-C too.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import signal
import urllib.parse
from collections.abc import Callable, Iterator
from pathlib import Path

from perfgate.errors import ConfigError, VerificationError
from perfgate.histograms.hlog import write_interval_log
from perfgate.profiles import load_profile
from perfgate.profiles.loader import PROJECT_ROOT
from perfgate.profiles.model import Profile
from perfgate.profiles.quick import quick_profile
from perfgate.results.build import RunInputs, build_record, interval_histograms
from perfgate.results.environment import describe_environment
from perfgate.results.live import LiveJudge
from perfgate.results.schema import RunRecord, TargetInfo
from perfgate.results.store import new_run_id, write_atomic, write_run
from perfgate.results.timeseries import render_csv, timeseries_rows
from perfgate.swarm.locust_setup import configure_locust
from perfgate.swarm.master import Swarm, Tick, TickHandler
from perfgate.swarm.processes import (
    ChildProcess,
    check_reachable,
    free_port,
    raise_if_exited,
    running_target,
    running_workers,
)
from perfgate.thresholds import parse_threshold

logger = logging.getLogger(__name__)

WORKER_JOIN_TIMEOUT_S = 60.0
FINAL_REPORT_TIMEOUT_S = 15.0
LOCUST_MASTER_PORT = 5557
QUICK_DURATION_S = 10.0
MAX_REPORTED_FAILURES = 10


@dataclasses.dataclass(frozen=True)
class RunOptions:
    """Options of `perfgate run`; see the CLI's help for each."""

    profile: str = "smoke"
    locustfile: Path | None = None
    host: str | None = None
    workers: int = max(os.cpu_count() or 1, 1)
    expect_workers: int | None = None
    out: Path = Path("results")
    target: str = "raw"
    server: str = "uvicorn"
    procs: int = 1
    codec: str = "orjson"
    loop: str = "uvloop"
    shards: int = 4
    data_dir: Path = Path("data")
    sqlite_mode: str = "inline"
    db: str = "sqlite"
    router: str = "jump"
    placement: str = ""
    queue: str = "sqlite"
    target_arguments: tuple[str, ...] = ()
    verify: bool = False
    master_bind: str = "127.0.0.1"
    master_port: int = 0
    thresholds: tuple[str, ...] = ()
    worker_join_timeout_s: float = WORKER_JOIN_TIMEOUT_S
    rate: float | None = None
    users: int | None = None
    spawn_rate: float | None = None
    duration_s: float | None = None
    max_in_flight: int | None = None
    abort_on_fail: bool = False
    worker_arguments: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True)
class RunOutcome:
    """The written record and where the run's files are."""

    record: RunRecord
    run_dir: Path


def execute_run(options: RunOptions, on_tick: Callable[[Tick], None]) -> RunOutcome:
    """Run the main job end to end and return the record written to run.json.

    Raises:
        ConfigError: the profile, a threshold or an option is invalid.
        InvalidRunError: the target is unreachable or the swarm failed to start.
    """
    profile = _choose_profile(options)
    for expression in options.thresholds:
        parse_threshold(expression)
    expected = _expected_workers(options)
    locustfile = _choose_locustfile(options, profile)
    if options.host is None:
        _validate_target_options(options)
    else:
        _validate_url(options.host)

    # Locust's gevent monkey-patching must come before the first child process: once
    # gevent handles SIGCHLD it reaps every child, and an unpatched Popen would then
    # report exit code 0 for a target that was killed.
    configure_locust()

    run_id = new_run_id()
    run_dir = options.out / run_id
    run_dir.mkdir(parents=True, exist_ok=False)
    logger.info("run %s: results go to %s", run_id, run_dir)

    with contextlib.ExitStack() as stack:
        stack.enter_context(_sigterm_as_interrupt())
        url, target = _start_or_check_target(options, run_dir, stack)
        if options.verify:
            _verify(url)
        remote = expected - options.workers
        master_port = options.master_port or (
            LOCUST_MASTER_PORT if remote else free_port(options.master_bind)
        )
        if remote:
            logger.info(
                "waiting for %d remote workers: run `perfgate worker --master %s:%d` on each",
                remote,
                options.master_bind,
                master_port,
            )
        swarm = Swarm(locustfile, url, options.master_bind, master_port)
        swarm.start()
        stack.callback(swarm.close)  # in case the workers fail to start
        workers = stack.enter_context(
            running_workers(
                options.workers,
                f"{options.master_bind}:{master_port}",
                locustfile,
                run_dir,
                options.worker_arguments,
            )
        )
        stack.callback(swarm.close)  # quit workers before their processes are stopped
        swarm.wait_for_workers(
            expected, options.worker_join_timeout_s, lambda: raise_if_exited(workers)
        )
        if target is not None:
            swarm.watch_target(target.process.pid)
        guard = _ProcessGuard(target, workers)
        handler = _tick_handler(profile, options, swarm, guard, on_tick)
        timeline = swarm.run_profile(profile, handler)
        result = swarm.collect(FINAL_REPORT_TIMEOUT_S)

    inputs = RunInputs(
        run_id=run_id,
        profile=profile,
        target=_target_info(options, url),
        environment=describe_environment(),
        extra_thresholds=options.thresholds,
        extra_invalid_reasons=tuple(guard.reasons),
    )
    record = build_record(inputs, timeline, result)
    write_interval_log(
        run_dir / "histograms.hlog", timeline.started_at_s, interval_histograms(result)
    )
    write_atomic(run_dir / "timeseries.csv", render_csv(timeseries_rows(timeline, result)))
    write_run(run_dir, record)
    return RunOutcome(record, run_dir)


@dataclasses.dataclass
class _ProcessGuard:
    """Watch the processes this run started; one that exits makes the run invalid."""

    target: ChildProcess | None
    workers: list[ChildProcess]
    reasons: list[str] = dataclasses.field(default_factory=list)

    def check(self) -> str | None:
        """Return a reason to end the run when the target or a local worker has exited."""
        for child in [*([self.target] if self.target else []), *self.workers]:
            code = child.exited()
            if code is not None:
                reason = (
                    f"{child.name} exited with code {code} during the run; see {child.log_path}"
                )
                self.reasons.append(reason)
                return reason
        return None


def _tick_handler(
    profile: Profile,
    options: RunOptions,
    swarm: Swarm,
    guard: _ProcessGuard,
    on_tick: Callable[[Tick], None],
) -> TickHandler:
    """Pass each sample to `on_tick`, watch the child processes, judge thresholds live."""
    judge = None
    if profile.abort_on_fail:
        thresholds = [parse_threshold(text) for text in (*profile.thresholds, *options.thresholds)]
        judge = LiveJudge(thresholds, profile.abort_delay_s, swarm.collector.samples_between)

    def handle(tick: Tick, window_start_s: float | None) -> str | None:
        on_tick(tick)
        reason = guard.check()
        if reason is not None or judge is None:
            return reason
        return judge.check(window_start_s, tick.at_s)

    return handle


def _validate_url(url: str) -> None:
    """Reject a --host that is not an http(s) URL with a host name."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        msg = f"invalid --host {url!r}; pass a URL such as http://127.0.0.1:8080"
        raise ConfigError(msg)


def _validate_target_options(options: RunOptions) -> None:
    """Check the target's variant names before anything starts, as perfgate serve would.

    Raises:
        TargetConfigError: names the invalid value and the allowed ones.
    """
    from targets.config import TargetConfig
    from targets.serve import validate_config
    from targets.services import ServicesConfig

    config = TargetConfig(
        target=options.target,
        server=options.server,
        procs=options.procs,
        codec=options.codec,
        loop=options.loop,
        shards=options.shards,
        sqlite_mode=options.sqlite_mode,
        services=ServicesConfig(
            db=options.db, router=options.router, placement=options.placement, queue=options.queue
        ),
    )
    validate_config(config)


def _verify(url: str) -> None:
    """Check the target against every endpoint rule; raise VerificationError on a failure."""
    from perfgate.verify import verify_target

    report = verify_target(url)
    if report.passed:
        logger.info("the target passed %d endpoint rules", len(report.outcomes))
        return
    shown = report.failures[:MAX_REPORTED_FAILURES]
    lines = [f"  {outcome.endpoint} {outcome.name}: {outcome.message}" for outcome in shown]
    if len(report.failures) > len(shown):
        lines.append(f"  ... and {len(report.failures) - len(shown)} more")
    msg = (
        f"the target at {url} broke {len(report.failures)} endpoint rules, so no load was sent:\n"
        + "\n".join(lines)
        + f"\nrun `perfgate verify {url}` for the offending responses"
    )
    raise VerificationError(msg)


def _choose_profile(options: RunOptions) -> Profile:
    """Load the named profile, or build one from --rate/--users and --duration."""
    if options.rate is None and options.users is None:
        if options.duration_s is not None:
            msg = "--duration needs --rate or --users; a profile file sets its own durations"
            raise ConfigError(msg)
        profile = load_profile(options.profile)
        if options.max_in_flight is not None:
            profile = dataclasses.replace(profile, max_in_flight=options.max_in_flight)
    else:
        profile = quick_profile(
            rate=options.rate,
            users=options.users,
            spawn_rate=options.spawn_rate,
            duration_s=options.duration_s if options.duration_s is not None else QUICK_DURATION_S,
            max_in_flight=options.max_in_flight,
            locustfile=options.locustfile or _reference_locustfile(options),
        )
    if options.abort_on_fail:
        profile = dataclasses.replace(profile, abort_on_fail=True)
    return profile


def _reference_locustfile(options: RunOptions) -> Path | None:
    """Return locustfiles/api.py for a quick run on perfgate's own target, else None."""
    if options.host is not None:
        return None
    path = PROJECT_ROOT / "locustfiles" / "api.py"
    return path if path.is_file() else None


def _expected_workers(options: RunOptions) -> int:
    """Return how many workers to wait for: the local ones plus those on other machines."""
    if options.workers < 0:
        msg = f"invalid --workers {options.workers}; pass 0 or more local workers"
        raise ConfigError(msg)
    expected = options.workers if options.expect_workers is None else options.expect_workers
    if expected < 1:
        msg = "no worker to run the load: pass --workers N or --expect-workers N with N >= 1"
        raise ConfigError(msg)
    if expected < options.workers:
        msg = (
            f"invalid --expect-workers {expected}: it counts all workers, so it cannot be "
            f"less than the {options.workers} local workers"
        )
        raise ConfigError(msg)
    return expected


def _choose_locustfile(options: RunOptions, profile: Profile) -> Path:
    locustfile = options.locustfile or profile.locustfile
    if locustfile is None:
        msg = f"profile {profile.name!r} names no locustfile; pass --locustfile PATH"
        raise ConfigError(msg)
    if not locustfile.is_file():
        msg = (
            f"locustfile {str(locustfile)!r} not found; pass --locustfile with an existing .py file"
        )
        raise ConfigError(msg)
    return locustfile.resolve()


def _start_or_check_target(
    options: RunOptions, run_dir: Path, stack: contextlib.ExitStack
) -> tuple[str, ChildProcess | None]:
    if options.host is not None:
        url = options.host.rstrip("/")
        check_reachable(url)
        return url, None
    serve_arguments = [
        "--target", options.target,
        "--server", options.server,
        "--procs", str(options.procs),
        "--codec", options.codec,
        "--loop", options.loop,
        "--shards", str(options.shards),
        "--data-dir", str(options.data_dir),
        "--sqlite-mode", options.sqlite_mode,
        "--db", options.db,
        "--router", options.router,
        "--placement", options.placement,
        "--queue", options.queue,
        *options.target_arguments,
    ]  # fmt: skip
    url, child = stack.enter_context(running_target(serve_arguments, run_dir))
    return url, child


def _target_info(options: RunOptions, url: str) -> TargetInfo:
    if options.host is not None:
        return TargetInfo(url=url, started_by_perfgate=False)
    return TargetInfo(
        url=url,
        started_by_perfgate=True,
        variant=options.target if options.target == "raw" else f"{options.target}/{options.server}",
        codec=options.codec,
        loop=options.loop,
        # Only the kind of storage is recorded: a DSN may carry a password.
        db="sqlite" if options.db == "sqlite" else "postgresql",
        router=options.router,
        shards=options.shards,
    )


@contextlib.contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """Turn SIGTERM into KeyboardInterrupt so that cleanup runs as on Ctrl-C."""

    def handler(_signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
