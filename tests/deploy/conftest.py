"""Fixtures of the deployment-file tests: perfgate's own parser for the commands in them."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import pytest
import typer

ParsedCommand = tuple[str, dict[str, Any]]


def parse_perfgate_command(argv: Sequence[str]) -> ParsedCommand:
    """Parse a `perfgate ...` command line with the CLI's own typer parser.

    Returns the command's name (`run`, `db init`) and its parsed options. The command
    is only parsed, never run.

    Raises:
        ValueError: the line names no perfgate command, or an option is unknown,
            missing or of the wrong type; the message contains the parser's error.
    """
    from perfgate.cli import app

    if not argv or argv[0] != "perfgate":
        msg = f"not a perfgate command line: {list(argv)!r}"
        raise ValueError(msg)
    command: Any = typer.main.get_command(app)
    path: list[str] = []
    rest = list(argv[1:])
    # Groups such as `db` hold their subcommands in a `commands` mapping.
    while isinstance(getattr(command, "commands", None), dict):
        if not rest:
            msg = f"{' '.join(argv)!r} names no subcommand of perfgate {' '.join(path)}"
            raise ValueError(msg)
        name = rest.pop(0)
        subcommand = command.commands.get(name)
        if subcommand is None:
            msg = f"perfgate has no command {' '.join([*path, name])!r}"
            raise ValueError(msg)
        path.append(name)
        command = subcommand
    try:
        context = command.make_context(" ".join(["perfgate", *path]), rest)
    except typer.TyperException as exc:
        msg = f"{' '.join(argv)!r}: {exc}"
        raise ValueError(msg) from None
    return " ".join(path), dict(context.params)


@pytest.fixture
def parse_perfgate() -> Callable[[Sequence[str]], ParsedCommand]:
    """Return the parser of `perfgate ...` command lines; see `parse_perfgate_command`."""
    return parse_perfgate_command
