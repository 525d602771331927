"""The cached Date header: RFC 7231 format, and refreshed each second by the loop."""

from __future__ import annotations

import asyncio
import re
import time
from email.utils import parsedate_to_datetime

import pytest

from targets.errors import TargetError
from targets.http.date import DateHeader, format_date_line

IMF_FIXDATE_LINE = re.compile(
    rb"Date: (Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} "
    rb"(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} GMT\r\n"
)


class FakeClock:
    def __init__(self, now_s: float) -> None:
        self.now_s = now_s

    def __call__(self) -> float:
        return self.now_s


def test_format_matches_rfc7231_example() -> None:
    # RFC 7231, section 7.1.1.1: Sun, 06 Nov 1994 08:49:37 GMT.
    assert format_date_line(784111777) == b"Date: Sun, 06 Nov 1994 08:49:37 GMT\r\n"


def test_format_pads_day() -> None:
    assert format_date_line(0) == b"Date: Thu, 01 Jan 1970 00:00:00 GMT\r\n"


def test_line_is_current() -> None:
    line = DateHeader().line
    assert IMF_FIXDATE_LINE.fullmatch(line)
    stamped_s = parsedate_to_datetime(line[6:-2].decode()).timestamp()
    assert abs(stamped_s - time.time()) < 2


def test_line_cached_until_refresh() -> None:
    clock = FakeClock(784111777.0)
    header = DateHeader(clock)
    clock.now_s += 5

    assert header.line == b"Date: Sun, 06 Nov 1994 08:49:37 GMT\r\n"
    header.refresh()
    assert header.line == b"Date: Sun, 06 Nov 1994 08:49:42 GMT\r\n"


async def test_loop_timer_refreshes_each_second() -> None:
    header = DateHeader()
    first = header.line
    header.start(asyncio.get_running_loop())
    try:
        deadline_s = time.monotonic() + 2.5
        while header.line == first and time.monotonic() < deadline_s:
            await asyncio.sleep(0.05)
        assert header.line != first
    finally:
        header.stop()


async def test_refresh_scheduled_at_second_boundary() -> None:
    clock = FakeClock(1000.25)
    header = DateHeader(clock)
    loop = asyncio.get_running_loop()
    header.start(loop)
    try:
        timer = header._timer
        assert timer is not None
        assert timer.when() - loop.time() == pytest.approx(0.751, abs=0.05)
    finally:
        header.stop()
    assert header._timer is None


async def test_start_twice_rejected() -> None:
    header = DateHeader()
    header.start(asyncio.get_running_loop())
    try:
        with pytest.raises(TargetError, match="already started"):
            header.start(asyncio.get_running_loop())
    finally:
        header.stop()
