"""Event loop implementations, chosen by name (`asyncio`, `uvloop`)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import uvloop

from targets.errors import TargetConfigError

LoopFactory = Callable[[], asyncio.AbstractEventLoop]

LOOPS: dict[str, LoopFactory] = {
    "asyncio": asyncio.new_event_loop,
    "uvloop": uvloop.new_event_loop,
}


def get_loop_factory(name: str) -> LoopFactory:
    """Return the function that creates a new event loop of the kind named `name`.

    Raises:
        TargetConfigError: no loop has that name; the message lists the known ones.
    """
    try:
        return LOOPS[name]
    except KeyError:
        known = ", ".join(sorted(LOOPS))
        raise TargetConfigError(f"unknown event loop {name!r}: expected one of {known}") from None
