"""Codec on orjson, a JSON library written in Rust; the default."""

from __future__ import annotations

from collections.abc import Callable

import orjson


class OrjsonCodec:
    """Encode with `orjson.dumps`, whose default output is already compact UTF-8."""

    name = "orjson"

    def __init__(self) -> None:
        # The C function itself, not a method wrapping it: one Python call less per body.
        self.encode: Callable[[object], bytes] = orjson.dumps
