"""Codec on msgspec's JSON encoder and typed decoders, written in C."""

from __future__ import annotations

from typing import Any

import msgspec

from targets.codecs.base import StructT
from targets.codecs.checks import (
    check_integer_literals,
    find_unencodable,
    may_hold_unencodable_integer,
)
from targets.codecs.errors import InvalidBodyError, SchemaViolationError, UnencodableValueError

# msgspec reports a number that overflows a float as a validation error; here it is
# invalid JSON input, as for the other codecs.
_OVERFLOW_MESSAGE = "Number out of range"


class MsgspecCodec:
    """Encode with one reused `msgspec.json.Encoder`; decode straight into typed Structs.

    msgspec writes integers of any size and writes NaN as `null`, so output with a
    `null` or with 19 digits or more gets the exact check. Decoding needs no second
    pass: one `msgspec.json.Decoder` per Struct type parses and validates at once.
    """

    name = "msgspec"

    def __init__(self) -> None:
        self._encode = msgspec.json.Encoder().encode
        self._decoders: dict[type[Any], msgspec.json.Decoder[Any]] = {}

    def encode(self, value: object) -> bytes:
        """Encode `value` as compact UTF-8 JSON."""
        try:
            encoded = self._encode(value)
        except (TypeError, UnicodeEncodeError) as exc:
            raise UnencodableValueError(f"cannot encode response as JSON: {exc}") from None
        if b"null" in encoded or may_hold_unencodable_integer(encoded):
            find_unencodable(value)
        return encoded

    def decode(self, data: bytes, struct_type: type[StructT]) -> StructT:
        """Decode a JSON request body into `struct_type`."""
        decoder = self._decoders.get(struct_type)
        if decoder is None:
            decoder = self._decoders[struct_type] = msgspec.json.Decoder(struct_type)
        check_integer_literals(data)
        try:
            value: StructT = decoder.decode(data)
        except msgspec.ValidationError as exc:
            if str(exc).startswith(_OVERFLOW_MESSAGE):
                raise InvalidBodyError(f"request body has a number out of range: {exc}") from None
            # The typed decoder stops at the first value of the wrong type, before it
            # reaches any malformed JSON after it, which the other codecs report first.
            _check_well_formed(data)
            raise SchemaViolationError(str(exc)) from None
        except msgspec.DecodeError as exc:
            raise InvalidBodyError(f"request body is not valid JSON: {exc}") from None
        return value


def _check_well_formed(data: bytes) -> None:
    """Raise `InvalidBodyError` unless `data` is one well-formed JSON document."""
    try:
        msgspec.json.decode(data)
    except msgspec.DecodeError as exc:
        raise InvalidBodyError(f"request body is not valid JSON: {exc}") from None
