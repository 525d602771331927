"""perfgate's command line: each command parses its options and calls one library function.

Only this module prints, shows progress or exits.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from perfgate.errors import (
    EXIT_FAILED,
    EXIT_INVALID,
    EXIT_PASSED,
    EXIT_USAGE,
    ConfigError,
    PerfgateError,
)

app = typer.Typer(
    name="perfgate",
    help="Load tests and benchmarks for Python services, judged by a statistical gate.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
db_app = typer.Typer(help="Create, seed and reshard the target's shards.", no_args_is_help=True)
app.add_typer(db_app, name="db")

# Tables stay readable when the output goes to a file or a CI log (rich uses 80 columns there).
console = Console(stderr=False, width=None if sys.stdout.isatty() else 120)
error_console = Console(stderr=True)

TargetOption = Annotated[str, typer.Option(help="Server variant: raw (asyncio Protocol server).")]
CodecOption = Annotated[str, typer.Option(help="JSON codec: json, orjson or msgspec.")]
LoopOption = Annotated[str, typer.Option(help="Event loop: asyncio or uvloop.")]
ShardsOption = Annotated[int, typer.Option(help="Number of SQLite shard files.", min=1)]
DataDirOption = Annotated[Path, typer.Option(help="Folder that holds the SQLite shard files.")]
SqliteModeOption = Annotated[
    str, typer.Option(help="How reads reach SQLite: inline, threads or aiosqlite.")
]


def _configure_logging(verbose: bool) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )


@app.command()
def serve(
    target: TargetOption = "raw",
    codec: CodecOption = "orjson",
    loop: LoopOption = "uvloop",
    host: Annotated[str, typer.Option(help="Address to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port; 0 picks a free one.", min=0)] = 8080,
    data_dir: DataDirOption = Path("data"),
    shards: ShardsOption = 4,
    sqlite_mode: SqliteModeOption = "inline",
    ready_file: Annotated[
        Path | None,
        typer.Option(help="Write host:port to this file once the server accepts connections."),
    ] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log at debug level.")] = False,
) -> None:
    """Run one target variant in the foreground until Ctrl-C or SIGTERM."""
    from targets.serve import serve as serve_target

    from targets.config import TargetConfig

    _configure_logging(verbose)
    config = TargetConfig(
        target=target,
        codec=codec,
        loop=loop,
        host=host,
        port=port,
        data_dir=data_dir,
        shards=shards,
        sqlite_mode=sqlite_mode,
        ready_file=ready_file,
    )
    serve_target(config)


@db_app.command("init")
def db_init(
    data_dir: DataDirOption = Path("data"),
    shards: ShardsOption = 4,
) -> None:
    """Create the SQLite shard files and seed the world and fortune tables."""
    from targets.storage.sqlite import init_shards

    _configure_logging(False)
    paths = init_shards(data_dir, shards)
    for path in paths:
        console.print(f"shard ready: {path}")


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
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log at debug level.")] = False,
) -> None:
    """Run a Locust worker with perfgate's plugin until its master says quit."""
    from perfgate.swarm.worker import run_worker

    _configure_logging(verbose)
    host, port = _parse_master(master)
    run_worker(host, port, locustfile)


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
        typer.Option(help="Local Locust worker processes (default: the CPU count).", min=1),
    ] = None,
    out: Annotated[Path, typer.Option(help="Folder for the run folder and its files.")] = Path(
        "results"
    ),
    target: TargetOption = "raw",
    codec: CodecOption = "orjson",
    loop: LoopOption = "uvloop",
    shards: ShardsOption = 4,
    data_dir: DataDirOption = Path("data"),
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
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log at debug level.")] = False,
) -> None:
    """Run the main job: a target, a Locust master and workers, a profile, and the results."""
    import os

    from perfgate.swarm.run import RunOptions, execute_run

    _configure_logging(verbose)
    options = RunOptions(
        profile=profile,
        locustfile=locustfile,
        host=host,
        workers=workers or max(os.cpu_count() or 1, 1),
        out=out,
        target=target,
        codec=codec,
        loop=loop,
        shards=shards,
        data_dir=data_dir,
        master_bind=master_bind,
        master_port=master_port,
        thresholds=tuple(threshold or ()),
    )
    outcome = execute_run(options, _print_tick)
    _print_outcome(outcome)


def _print_tick(tick: object) -> None:
    from perfgate.swarm.master import Tick

    assert isinstance(tick, Tick)
    error_console.print(
        f"[dim]{tick.stage:>8}[/] users {tick.users:>4}  ~{tick.recent_rps:>6} req/s  "
        f"failures {tick.recent_failures:>4}  worker CPU {tick.cpu_max_percent:5.1f}%",
        highlight=False,
    )


def _print_outcome(outcome: object) -> None:
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
    exit_codes = {"pass": EXIT_PASSED, "fail": EXIT_FAILED, "invalid": EXIT_INVALID}
    raise typer.Exit(exit_codes[record.verdict])


def main() -> None:
    """Run the CLI and map perfgate's errors to their exit codes."""
    try:
        app()
    except PerfgateError as exc:
        error_console.print(f"[bold red]error:[/] {exc}", highlight=False)
        sys.exit(exc.exit_code)
    except Exception as exc:
        from targets.errors import TargetError

        if isinstance(exc, TargetError):
            error_console.print(f"[bold red]error:[/] {exc}", highlight=False)
            sys.exit(EXIT_USAGE)
        raise
