"""Parse human durations such as `500ms`, `20s`, `2m` or `1h30m` into seconds."""

from __future__ import annotations

import re

_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h)")
_UNIT_S = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}


def parse_duration_s(value: object) -> float:
    """Convert a duration to seconds.

    Accepts a non-negative number of seconds or a string of number-unit parts
    (`ms`, `s`, `m`, `h`), for example `"90s"`, `"1m30s"` or `"250ms"`.

    Raises:
        ValueError: the value is negative, empty or has an unknown unit; the message
            shows the value and the accepted forms.
    """
    if isinstance(value, bool):
        msg = f"invalid duration {value!r}; use seconds or a string like '20s', '2m', '500ms'"
        raise ValueError(msg)
    if isinstance(value, int | float):
        if value < 0:
            msg = f"invalid duration {value!r}: it must not be negative"
            raise ValueError(msg)
        return float(value)
    if not isinstance(value, str):
        msg = f"invalid duration {value!r}; use seconds or a string like '20s', '2m', '500ms'"
        raise ValueError(msg)

    text = value.strip().replace(" ", "")
    position = 0
    total_s = 0.0
    for match in _PART.finditer(text):
        if match.start() != position:
            break
        total_s += float(match.group(1)) * _UNIT_S[match.group(2)]
        position = match.end()
    if not text or position != len(text):
        msg = f"invalid duration {value!r}; use a string like '20s', '2m', '1m30s' or '500ms'"
        raise ValueError(msg)
    return total_s
