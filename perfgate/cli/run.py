"""Commands that generate load: `run` and `worker`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from perfgate.cli.app import (
    CodecOption,
    DataDirOption,
    LoopOption,
    ProcsOption,
    ServerOption,
    ShardsOption,
    SqliteModeOption,
    TargetOption,
    VerboseOption,
    app,
    configure_logging,
    console,
    error_console,
)
from perfgate.cli.progress import RunProgress
from perfgate.cli.service_options import DbOption, PlacementOption, QueueOption, RouterOption
from perfgate.errors import EXIT_FAILED, EXIT_INVALID, EXIT_PASSED, ConfigError, PerfgateError


def _parse_master(address: str) -> tuple[str, int]:
    host, _, port_text = address.rpartition(":") if ":" in address else (address, ":", "5557")
    if not host or not port_text.isdigit() or not 0 < int(port_text) < 65536:
        msg = f"invalid --master {address!r}; write HOST or HOST:PORT, for example 10.0.0.5:5557"
        raise ConfigError(msg)
    return host, int(port_text)


@app.command()
def worker(
    master: Annotated[
        str, typer.Option(help="Master address, HOST or HOST:PORT (port 5557 by default).")
    ],
    locustfile: Annotated[
        Path, typer.Option(help="Locustfile with the User classes to run.")
    ] = Path("locustfiles/api.py"),
    no_latency: Annotated[
        bool,
        typer.Option(
            "--no-latency",
            help="Count requests without recording latencies (measures the recording cost).",
        ),
    ] = False,
    verbose: VerboseOption = False,
) -> None:
    """Run a Locust worker with perfgate's plugin until its master sends quit."""
    from perfgate.swarm.worker import run_worker

    configure_logging(verbose)
    host, port = _parse_master(master)
    run_worker(host, port, locustfile, record_latency=not no_latency)


@app.command()
def run(
    profile: Annotated[
        str, typer.Option(help="Profile name in profiles/ or a path to a .toml file.")
    ] = "smoke",
    locustfile: Annotated[
        Path | None, typer.Option(help="Locustfile to run instead of the profile's own.")
    ] = None,
    host: Annotated[
        str | None, typer.Option(help="URL of a running service; no target is started then.")
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            help="Local Locust worker processes (default: the CPU count; 0 for none).", min=0
        ),
    ] = None,
    expect_workers: Annotated[
        int | None,
        typer.Option(
            help="Workers to wait for in all, local ones included; start the others with "
            "`perfgate worker --master HOST:PORT` on other machines.",
            min=1,
        ),
    ] = None,
    worker_join_timeout: Annotated[
        float, typer.Option(help="Seconds to wait for every expected worker to connect.", min=1)
    ] = 60.0,
    out: Annotated[Path, typer.Option(help="Folder for the run folder and its files.")] = Path(
        "results"
    ),
    target: TargetOption = "raw",
    server: ServerOption = "uvicorn",
    procs: ProcsOption = 1,
    codec: CodecOption = "orjson",
    loop: LoopOption = "uvloop",
    shards: ShardsOption = 4,
    data_dir: DataDirOption = Path("data"),
    sqlite_mode: SqliteModeOption = "inline",
    db: DbOption = "sqlite",
    router: RouterOption = "jump",
    placement: PlacementOption = "",
    queue: QueueOption = "sqlite",
    target_arg: Annotated[
        list[str] | None,
        typer.Option(
            help="Extra option for the started target, such as --no-metrics or "
            "--pool-size=16 (see perfgate serve --help); repeat for more."
        ),
    ] = None,
    master_bind: Annotated[
        str, typer.Option(help="Address the Locust master binds.")
    ] = "127.0.0.1",
    master_port: Annotated[
        int, typer.Option(help="Port the Locust master binds; 0 picks a free one.", min=0)
    ] = 0,
    threshold: Annotated[
        list[str] | None,
        typer.Option(help="Extra threshold such as 'p99 < 50ms'; repeat for more."),
    ] = None,
    rate: Annotated[
        float | None,
        typer.Option(help="Quick open-model run: arrivals per second over all workers."),
    ] = None,
    users: Annotated[
        int | None, typer.Option(help="Quick closed-model run: concurrent users.", min=1)
    ] = None,
    spawn_rate: Annotated[
        float | None, typer.Option(help="Quick closed-model run: users started per second.")
    ] = None,
    duration: Annotated[
        str | None,
        typer.Option(help="Quick run: length of the measurement, such as 10s or 2m (default 10s)."),
    ] = None,
    max_in_flight: Annotated[
        int | None,
        typer.Option(help="Open model: flows running at once over all workers.", min=1),
    ] = None,
    verify: Annotated[
        bool,
        typer.Option(
            "--verify", help="Check the target against every endpoint rule before the load."
        ),
    ] = False,
    abort_on_fail: Annotated[
        bool,
        typer.Option(
            "--abort-on-fail",
            help="End the run as soon as a threshold fails (after 5 s of window).",
        ),
    ] = False,
    verbose: VerboseOption = False,
) -> None:
    """Run the main job: a target, a Locust master and workers, a profile, and the results."""
    import os

    from perfgate.swarm.run import RunOptions, execute_run

    configure_logging(verbose)
    options = RunOptions(
        profile=profile,
        locustfile=locustfile,
        host=host,
        workers=max(os.cpu_count() or 1, 1) if workers is None else workers,
        expect_workers=expect_workers,
        worker_join_timeout_s=worker_join_timeout,
        rate=rate,
        users=users,
        spawn_rate=spawn_rate,
        duration_s=None if duration is None else _parse_duration(duration),
        max_in_flight=max_in_flight,
        abort_on_fail=abort_on_fail,
        verify=verify,
        out=out,
        target=target,
        codec=codec,
        loop=loop,
        shards=shards,
        data_dir=data_dir,
        server=server,
        procs=procs,
        sqlite_mode=sqlite_mode,
        db=db,
        router=router,
        placement=placement,
        queue=queue,
        target_arguments=tuple(target_arg or ()),
        master_bind=master_bind,
        master_port=master_port,
        thresholds=tuple(threshold or ()),
    )
    with RunProgress(error_console) as progress:
        outcome = execute_run(options, progress.update)
    report = _write_report(outcome.run_dir)
    _print_outcome(outcome, report)


def _write_report(run_dir: Path) -> Path | None:
    """Write the run's HTML report; a failure is reported but keeps the run's exit code."""
    from perfgate.report import write_report

    try:
        return write_report([run_dir])
    except PerfgateError as exc:
        error_console.print(f"[yellow]report not written:[/] {exc}", soft_wrap=True)
        return None


def _parse_duration(text: str) -> float:
    from perfgate.profiles.durations import parse_duration_s

    try:
        return parse_duration_s(text)
    except ValueError as exc:
        msg = f"--duration: {exc}"
        raise ConfigError(msg) from None


def _print_outcome(outcome: object, report: Path | None) -> None:
    from perfgate.console import summary_table, thresholds_table, verdict_line
    from perfgate.swarm.run import RunOutcome

    assert isinstance(outcome, RunOutcome)
    record = outcome.record
    console.print(summary_table(record))
    thresholds = thresholds_table(record)
    if thresholds is not None:
        console.print(thresholds)
    console.print(verdict_line(record))
    console.print(f"results: {outcome.run_dir}")
    if report is not None:
        console.print(f"report: {report}")
    exit_codes = {"pass": EXIT_PASSED, "fail": EXIT_FAILED, "invalid": EXIT_INVALID}
    raise typer.Exit(exit_codes[record.verdict])
