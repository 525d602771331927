"""The typer application, its consoles and the options that several commands share."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

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
console = Console(stderr=False, width=None if sys.stdout.isatty() else 132)
error_console = Console(stderr=True, width=None if sys.stderr.isatty() else 132)

TargetOption = Annotated[
    str,
    typer.Option(
        help="Server variant: raw (asyncio Protocol server), asgi (the same handlers as a "
        "plain ASGI app) or fastapi."
    ),
]
ServerOption = Annotated[
    str, typer.Option(help="ASGI server library for --target asgi and fastapi: uvicorn or granian.")
]
ProcsOption = Annotated[
    int, typer.Option(help="Number of server processes sharing the port (SO_REUSEPORT).", min=1)
]
CodecOption = Annotated[str, typer.Option(help="JSON codec: json, orjson or msgspec.")]
LoopOption = Annotated[str, typer.Option(help="Event loop: asyncio or uvloop.")]
ShardsOption = Annotated[int, typer.Option(help="Number of SQLite shard files.", min=1)]
DataDirOption = Annotated[Path, typer.Option(help="Folder that holds the SQLite shard files.")]
SqliteModeOption = Annotated[
    str, typer.Option(help="How reads reach SQLite: inline, threads or aiosqlite.")
]


def configure_logging(verbose: bool) -> None:
    """Send log records to stderr, at debug level when `verbose`.

    On a terminal, records go through rich so that they do not break a live progress
    bar. Locust's own records show only from warnings on, unless `verbose`.
    """
    level = logging.DEBUG if verbose else logging.INFO
    if error_console.is_terminal:
        from rich.logging import RichHandler

        handler: logging.Handler = RichHandler(console=error_console, show_path=False)
        handler.setFormatter(logging.Formatter("%(name)s: %(message)s"))
    else:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=level, handlers=[handler], force=True)
    if not verbose:
        logging.getLogger("locust").setLevel(logging.WARNING)


VerboseOption = Annotated[bool, typer.Option("--verbose", "-v", help="Log at debug level.")]
