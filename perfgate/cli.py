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

from perfgate.errors import EXIT_USAGE, PerfgateError

app = typer.Typer(
    name="perfgate",
    help="Load tests and benchmarks for Python services, judged by a statistical gate.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
db_app = typer.Typer(help="Create, seed and reshard the target's shards.", no_args_is_help=True)
app.add_typer(db_app, name="db")

console = Console(stderr=False)
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
    from targets.config import TargetConfig
    from targets.serve import serve as serve_target

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
