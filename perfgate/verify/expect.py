"""Assertions that rules share: status, media type, JSON shape, and the common headers."""

from __future__ import annotations

import json
import time
from email.utils import parsedate_to_datetime

import httpx

from perfgate.verify.model import RuleViolationError

DATE_TOLERANCE_S = 600.0
"""How far a `Date` header may be from this machine's clock, allowing for clock skew."""

MIN_WORLD_VALUE = 1
MAX_WORLD_VALUE = 10_000


def expect_status(response: httpx.Response, *expected: int) -> None:
    """Raise `RuleViolationError` unless the status is one of `expected`."""
    if response.status_code not in expected:
        wanted = " or ".join(str(status) for status in expected)
        raise RuleViolationError(f"expected status {wanted}, got {response.status_code}")


def expect_media_type(response: httpx.Response, media_type: str) -> None:
    """Raise `RuleViolationError` unless `Content-Type` names `media_type`, parameters aside."""
    content_type = response.headers.get("content-type")
    if content_type is None:
        raise RuleViolationError(f"expected Content-Type {media_type}, got no Content-Type header")
    found = content_type.split(";", 1)[0].strip().lower()
    if found != media_type:
        raise RuleViolationError(f"expected Content-Type {media_type}, got {content_type!r}")


def expect_json(response: httpx.Response) -> object:
    """Parse the body as JSON, raising `RuleViolationError` if it is not."""
    try:
        return json.loads(response.content)
    except (ValueError, UnicodeDecodeError) as exc:
        raise RuleViolationError(f"expected a JSON body, got invalid JSON: {exc}") from None


def expect_world(row: object, where: str) -> tuple[int, int]:
    """Check one `world` object and return its id and random number.

    The key `randomNumber` may also be spelled `randomnumber`, as the TechEmpower
    verifier allows.
    """
    if not isinstance(row, dict):
        raise RuleViolationError(f"{where}: expected a JSON object, got {type(row).__name__}")
    keys = {key.lower(): key for key in row}
    if set(keys) != {"id", "randomnumber"}:
        raise RuleViolationError(f"{where}: expected keys id and randomNumber, got {sorted(row)}")
    values = (row[keys["id"]], row[keys["randomnumber"]])
    for name, value in zip(("id", "randomNumber"), values, strict=True):
        if isinstance(value, bool) or not isinstance(value, int):
            raise RuleViolationError(f"{where}: {name} must be an integer, got {value!r}")
        if not MIN_WORLD_VALUE <= value <= MAX_WORLD_VALUE:
            raise RuleViolationError(
                f"{where}: {name} must be in {MIN_WORLD_VALUE}..{MAX_WORLD_VALUE}, got {value}"
            )
    return values[0], values[1]


def expect_common_headers(response: httpx.Response) -> None:
    """Check `Server`, `Date` and the body's framing, which every response needs."""
    if not response.headers.get("server"):
        raise RuleViolationError("expected a Server header, got none")

    date = response.headers.get("date")
    if date is None:
        raise RuleViolationError("expected a Date header, got none")
    try:
        stamped_s = parsedate_to_datetime(date).timestamp()
    except (TypeError, ValueError):
        raise RuleViolationError(f"Date header {date!r} is not an HTTP date") from None
    if not date.endswith(" GMT"):
        raise RuleViolationError(f"Date header {date!r} is not in GMT (IMF-fixdate)")
    skew_s = abs(stamped_s - time.time())
    if skew_s > DATE_TOLERANCE_S:
        raise RuleViolationError(
            f"Date header {date!r} is {skew_s:.0f} s away from this machine's clock"
        )

    if response.headers.get("transfer-encoding", "").lower() == "chunked":
        return
    length = response.headers.get("content-length")
    if length is None:
        raise RuleViolationError(
            "expected Content-Length or chunked Transfer-Encoding, got neither"
        )
    if not length.isdigit() or int(length) != len(response.content):
        raise RuleViolationError(
            f"Content-Length {length!r} does not match the body's {len(response.content)} bytes"
        )
