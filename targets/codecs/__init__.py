"""JSON codecs behind one small interface, chosen by name (`json`, `orjson`, `msgspec`)."""

from __future__ import annotations

from collections.abc import Callable

from targets.codecs.base import Codec
from targets.codecs.json import JsonCodec
from targets.codecs.msgspec import MsgspecCodec
from targets.codecs.orjson import OrjsonCodec
from targets.errors import TargetConfigError

CODECS: dict[str, Callable[[], Codec]] = {
    "json": JsonCodec,
    "orjson": OrjsonCodec,
    "msgspec": MsgspecCodec,
}


def get_codec(name: str) -> Codec:
    """Create the codec registered under `name`.

    Raises:
        TargetConfigError: no codec has that name; the message lists the known ones.
    """
    try:
        factory = CODECS[name]
    except KeyError:
        known = ", ".join(sorted(CODECS))
        raise TargetConfigError(f"unknown codec {name!r}: expected one of {known}") from None
    return factory()


__all__ = ["CODECS", "Codec", "get_codec"]
