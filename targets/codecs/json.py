"""Codec on the standard library's `json` module, the baseline the others are compared to."""

from __future__ import annotations

import json

import msgspec

from targets.codecs.base import StructT
from targets.codecs.checks import (
    check_float,
    check_integer,
    check_strings,
    find_unencodable,
    may_hold_unencodable_integer,
    reject_constant,
)
from targets.codecs.errors import InvalidBodyError, SchemaViolationError, UnencodableValueError


class JsonCodec:
    """Encode with `json.JSONEncoder` as compact UTF-8, and decode with `json.loads`.

    Decoded bodies are validated with `msgspec.convert` in strict mode, so that every
    codec rejects the same bodies with the same messages.
    """

    name = "json"

    def __init__(self) -> None:
        encoder = json.JSONEncoder(
            ensure_ascii=False,
            check_circular=False,
            allow_nan=False,
            separators=(",", ":"),
        )
        self._encode_text = encoder.encode

    def encode(self, value: object) -> bytes:
        """Encode `value` as compact UTF-8 JSON."""
        try:
            encoded = self._encode_text(value).encode("utf-8")
        except ValueError as exc:
            # Raised for NaN and infinities (allow_nan=False) and, as UnicodeEncodeError,
            # for lone surrogates.
            raise UnencodableValueError(f"cannot encode response as JSON: {exc}") from None
        if may_hold_unencodable_integer(encoded):
            find_unencodable(value)
        return encoded

    def decode(self, data: bytes, struct_type: type[StructT]) -> StructT:
        """Decode a JSON request body into `struct_type`."""
        try:
            value = json.loads(
                data.decode("utf-8"),
                parse_int=check_integer,
                parse_float=check_float,
                parse_constant=reject_constant,
            )
        except InvalidBodyError:
            raise
        except (ValueError, RecursionError) as exc:
            raise InvalidBodyError(f"request body is not valid JSON: {exc}") from None
        if b"\\u" in data:
            # Only an escape can produce a lone surrogate, because the body is valid UTF-8.
            check_strings(value)
        try:
            return msgspec.convert(value, struct_type, strict=True)
        except msgspec.ValidationError as exc:
            raise SchemaViolationError(str(exc)) from None
