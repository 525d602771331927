"""Rate-limited logging for events that can repeat on every request under load."""

from __future__ import annotations

import logging
import time

DEFAULT_REPORT_INTERVAL_S = 1.0


class ThrottledReporter:
    """Log one kind of event at most once per interval, counting the ones not logged."""

    def __init__(
        self,
        logger: logging.Logger,
        message: str,
        level: int = logging.ERROR,
        interval_s: float = DEFAULT_REPORT_INTERVAL_S,
    ) -> None:
        """Log `message` at `level` on `logger`, with the count of reports held back."""
        self._logger = logger
        self._message = message + " (%d since the previous report not logged)"
        self._level = level
        self._interval_s = interval_s
        self._next_report_s = 0.0
        self._suppressed = 0

    def report(self, exc: BaseException | None = None) -> None:
        """Log the event with `exc`'s traceback, unless one was logged within the interval."""
        now_s = time.monotonic()
        if now_s < self._next_report_s:
            self._suppressed += 1
            return
        self._logger.log(self._level, self._message, self._suppressed, exc_info=exc)
        self._suppressed = 0
        self._next_report_s = now_s + self._interval_s
