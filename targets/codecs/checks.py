"""Checks shared by every codec: numbers JSON cannot carry exactly, in and out.

JSON has one number type, and the codecs' fast paths disagree on the edges. orjson
reads an integer past 64 bits as a float and writes NaN as `null`. msgspec reads and
writes integers of any size and writes NaN as `null`. The standard library reads
`NaN` and `Infinity`. So every codec applies these rules:

- integers must lie in `MIN_INTEGER`..`MAX_INTEGER`, the union of int64 and uint64,
  because orjson and msgspec both carry that range exactly. Others are rejected
  with 400 on input and never written;
- NaN and the infinities are rejected on input and never written, not even as
  `null`;
- strings must be valid Unicode without lone surrogates, in and out.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator

import msgspec

from targets.codecs.errors import InvalidBodyError, UnencodableValueError

MIN_INTEGER = -(2**63)
MAX_INTEGER = 2**64 - 1

# Every integer outside the range has at least 19 digits, so bodies without such a run
# of digits skip the exact check.
_LONG_DIGIT_RUN = re.compile(rb"[0-9]{19}")
_LONG_DIGIT_COUNT = 19
_DIGITS = b"0123456789"


def check_integer(text: str) -> int:
    """Parse one JSON integer literal, rejecting it outside the 64-bit range.

    Raises:
        InvalidBodyError: the integer lies outside `MIN_INTEGER`..`MAX_INTEGER`.
    """
    try:
        value = int(text)
    except ValueError:
        # Python refuses to convert more than 4,300 digits, far past the range anyway.
        raise InvalidBodyError(
            f"integer of {len(text)} digits is outside the 64-bit range"
        ) from None
    if not MIN_INTEGER <= value <= MAX_INTEGER:
        raise InvalidBodyError(
            f"integer {text} is outside the 64-bit range {MIN_INTEGER}..{MAX_INTEGER}"
        )
    return value


def check_float(text: str) -> float:
    """Parse one JSON number with a fraction or exponent, rejecting infinities.

    Raises:
        InvalidBodyError: the number overflows to an infinity, such as `1e400`.
    """
    value = float(text)
    if math.isinf(value):
        raise InvalidBodyError(f"number {text} is too large for a 64-bit float")
    return value


def reject_constant(name: str) -> float:
    """Reject `NaN`, `Infinity` and `-Infinity`, which JSON does not allow.

    Raises:
        InvalidBodyError: always.
    """
    raise InvalidBodyError(f"{name} is not valid JSON: send a finite number")


def check_integer_literals(data: bytes) -> None:
    """Reject a JSON document with an integer literal outside the 64-bit range.

    Fast codecs call this before they parse, because orjson turns such an integer
    into a float silently. A long run of digits inside a string only costs a second,
    exact parse.

    Raises:
        InvalidBodyError: an integer is out of range, or the document is not JSON.
    """
    if _LONG_DIGIT_RUN.search(data) is None:
        return
    try:
        json.loads(data, parse_int=check_integer, parse_constant=reject_constant)
    except (ValueError, RecursionError) as exc:
        if isinstance(exc, InvalidBodyError):
            raise
        raise InvalidBodyError(f"request body is not valid JSON: {exc}") from None


def check_strings(value: object) -> None:
    """Reject a decoded value with a lone surrogate in a string, which UTF-8 cannot carry.

    Raises:
        InvalidBodyError: names the JSON path of the first such string.
    """
    for path, item in _walk(value, "$"):
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                raise InvalidBodyError(f"string at `{path}` has a lone surrogate") from None


def may_hold_unencodable_integer(encoded: bytes) -> bool:
    """Tell, from encoded output, whether an integer in it may be out of range.

    Counting the digits costs one C-level pass. Only output with 19 digits or more
    in total needs the exact check.
    """
    return len(encoded) - len(encoded.translate(None, _DIGITS)) >= _LONG_DIGIT_COUNT


def find_unencodable(value: object) -> None:
    """Raise if `value` has an integer out of range, NaN or an infinity.

    Raises:
        UnencodableValueError: names the JSON path of the first such number.
    """
    for path, item in _walk(value, "$"):
        if isinstance(item, bool):
            continue
        if isinstance(item, int) and not MIN_INTEGER <= item <= MAX_INTEGER:
            raise UnencodableValueError(f"integer at `{path}` is outside the 64-bit range")
        if isinstance(item, float) and not math.isfinite(item):
            raise UnencodableValueError(f"number at `{path}` is {item!r}, which JSON cannot carry")


def _walk(value: object, path: str) -> Iterator[tuple[str, object]]:
    """Yield every value inside `value`, depth first, with its JSON path."""
    stack: list[tuple[str, object]] = [(path, value)]
    while stack:
        path, item = stack.pop()
        yield path, item
        if isinstance(item, msgspec.Struct):
            item = msgspec.structs.asdict(item)
        if isinstance(item, dict):
            stack.extend((f"{path}.{key}", child) for key, child in item.items())
        elif isinstance(item, list | tuple):
            stack.extend((f"{path}[{index}]", child) for index, child in enumerate(item))
