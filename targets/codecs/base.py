"""The codec interface: how a target turns a response value into JSON bytes."""

from __future__ import annotations

from typing import Protocol


class Codec(Protocol):
    """A JSON encoder that every handler calls once per response body.

    All codecs produce the same bytes for the values the targets encode: dicts with
    `str` keys, lists, `str`, `int`, `bool` and `None`. Output is compact (no spaces
    after `,` or `:`), non-ASCII text is written as UTF-8 rather than `\\u` escapes,
    and dict keys keep their insertion order.
    """

    @property
    def name(self) -> str:
        """Name the codec is chosen by on the command line."""
        ...

    def encode(self, value: object) -> bytes:
        """Encode `value` as compact UTF-8 JSON."""
        ...
