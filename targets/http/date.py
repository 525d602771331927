"""The `Date` response header, formatted once a second instead of once per response."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from email.utils import formatdate

from targets.errors import TargetError

# Refresh slightly after each wall-clock second begins, so that a timer firing a few
# microseconds early still formats the new second.
_REFRESH_OFFSET_S = 0.001


def format_date_line(timestamp_s: float) -> bytes:
    """Format `Date: <IMF-fixdate>\\r\\n` for a Unix timestamp (RFC 7231, section 7.1.1.1)."""
    return b"Date: " + formatdate(timestamp_s, usegmt=True).encode("ascii") + b"\r\n"


class DateHeader:
    """The current `Date` header line, refreshed by an event loop timer every second.

    Attributes:
        line: `Date: Sun, 06 Nov 1994 08:49:37 GMT\\r\\n` for the current second, ready
            to copy into a response head.
    """

    __slots__ = ("_clock", "_loop", "_timer", "line")

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        """Format the line for the current time.

        Args:
            clock: wall-clock source in seconds since the Unix epoch; tests pass a fake.
        """
        self._clock = clock
        self._loop: asyncio.AbstractEventLoop | None = None
        self._timer: asyncio.TimerHandle | None = None
        self.line = format_date_line(clock())

    def refresh(self) -> None:
        """Format the line again for the clock's current time."""
        self.line = format_date_line(self._clock())

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        """Refresh now and then at the start of every wall-clock second on `loop`.

        Raises:
            TargetError: the header is already started.
        """
        if self._loop is not None:
            raise TargetError("the Date header is already started; stop it first")
        self._loop = loop
        self._tick()

    def stop(self) -> None:
        """Cancel the refresh timer; the line keeps its last value."""
        if self._timer is not None:
            self._timer.cancel()
        self._timer = None
        self._loop = None

    def _tick(self) -> None:
        if self._loop is None:
            return
        self.refresh()
        now_s = self._clock()
        delay_s = 1.0 - (now_s % 1.0) + _REFRESH_OFFSET_S
        self._timer = self._loop.call_later(delay_s, self._tick)
