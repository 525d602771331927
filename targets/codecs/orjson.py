"""Codec on orjson, a JSON library written in Rust; the default."""

from __future__ import annotations

import msgspec
import orjson

from targets.codecs.base import StructT
from targets.codecs.checks import check_integer_literals, find_unencodable
from targets.codecs.errors import InvalidBodyError, SchemaViolationError, UnencodableValueError


class OrjsonCodec:
    """Encode with `orjson.dumps`, whose default output is already compact UTF-8.

    orjson raises for integers past 64 bits itself, but writes NaN and infinities as
    `null`, so output with a `null` in it gets the exact check. Decoded bodies are
    validated with `msgspec.convert` in strict mode, as for the `json` codec.
    """

    name = "orjson"

    def __init__(self) -> None:
        self._dumps = orjson.dumps

    def encode(self, value: object) -> bytes:
        """Encode `value` as compact UTF-8 JSON."""
        try:
            encoded = self._dumps(value)
        except orjson.JSONEncodeError as exc:
            raise UnencodableValueError(f"cannot encode response as JSON: {exc}") from None
        if b"null" in encoded:
            find_unencodable(value)
        return encoded

    def decode(self, data: bytes, struct_type: type[StructT]) -> StructT:
        """Decode a JSON request body into `struct_type`."""
        check_integer_literals(data)
        try:
            value = orjson.loads(data)
        except orjson.JSONDecodeError as exc:
            raise InvalidBodyError(f"request body is not valid JSON: {exc}") from None
        try:
            return msgspec.convert(value, struct_type, strict=True)
        except msgspec.ValidationError as exc:
            raise SchemaViolationError(str(exc)) from None
