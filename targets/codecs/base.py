"""The codec interface: response values to JSON bytes, and request bodies to Structs."""

from __future__ import annotations

from typing import Protocol, TypeVar

import msgspec

StructT = TypeVar("StructT", bound=msgspec.Struct)


class Codec(Protocol):
    """A JSON encoder for response bodies and a decoder for request bodies.

    All codecs produce the same bytes for the values the targets encode: dicts with
    `str` keys, lists, `str`, `int`, `bool` and `None`. Output is compact (no spaces
    after `,` or `:`), non-ASCII text is written as UTF-8 rather than `\\u` escapes,
    and dict keys keep their insertion order.

    All codecs also agree on the edges, as `targets.codecs.checks` describes:
    integers outside the 64-bit range, NaN and infinities are rejected on input with
    `InvalidBodyError` (400) and never written (`UnencodableValueError`). Decoding
    validates against a `msgspec.Struct` type, and a body that breaks it raises
    `SchemaViolationError` (422) with msgspec's message, which names the field
    (`Expected `int`, got `str` - at `$.id``).
    """

    @property
    def name(self) -> str:
        """Name the codec is chosen by on the command line."""
        ...

    def encode(self, value: object) -> bytes:
        """Encode `value` as compact UTF-8 JSON.

        Raises:
            UnencodableValueError: `value` has a number JSON cannot carry exactly, or
                a string that is not valid Unicode.
        """
        ...

    def decode(self, data: bytes, struct_type: type[StructT]) -> StructT:
        """Decode a JSON request body into `struct_type`, validating every field.

        Raises:
            InvalidBodyError: `data` is not UTF-8 JSON, or has a number out of range.
            SchemaViolationError: the JSON breaks `struct_type`'s schema.
        """
        ...
