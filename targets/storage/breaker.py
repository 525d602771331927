"""A per-shard circuit breaker: after a shard fails, fail its requests at once for a while.

Without it, every request for a dead or stalled shard would wait the full timeout,
tying up connections and the client. After a failure the breaker stays open for
`cooldown_s`, and requests for that shard fail immediately. Then requests go through
again, and the first success closes it. So the service recovers by itself once the
shard is back, at most `cooldown_s` later.
"""

from __future__ import annotations

import time


class ShardBreaker:
    """Tracks whether one shard failed recently; see the module docstring."""

    __slots__ = ("_cooldown_s", "_open_until_s", "last_error")

    def __init__(self, cooldown_s: float) -> None:
        """Fail fast for `cooldown_s` seconds after each failure."""
        self._cooldown_s = cooldown_s
        self._open_until_s = 0.0
        self.last_error = ""

    @property
    def is_open(self) -> bool:
        """Whether requests should fail without trying the shard."""
        return time.monotonic() < self._open_until_s

    def record_failure(self, error: str) -> None:
        """Open the breaker for the cooldown, remembering `error` for the fast failures."""
        self._open_until_s = time.monotonic() + self._cooldown_s
        self.last_error = error

    def record_success(self) -> None:
        """Close the breaker."""
        self._open_until_s = 0.0
        self.last_error = ""
