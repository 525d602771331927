"""Limits that protect a server from oversized, slow and too many requests."""

from __future__ import annotations

import dataclasses

from targets.errors import TargetConfigError

DEFAULT_MAX_HEAD_BYTES = 64 << 10
DEFAULT_MAX_BODY_BYTES = 1 << 20
DEFAULT_READ_TIMEOUT_S = 10.0
DEFAULT_IDLE_TIMEOUT_S = 60.0
DEFAULT_MAX_CONNECTIONS = 4096


@dataclasses.dataclass(frozen=True, slots=True)
class ConnectionLimits:
    """How much one request may send, how long it may take, and how many connections fit.

    Attributes:
        max_head_bytes: largest request head (request line and headers); 431 past it.
        max_body_bytes: largest request body; 413 past it, and before reading the
            body when `Content-Length` announces a larger one.
        read_timeout_s: time allowed to receive one whole request, head and body,
            from its first byte; then the server responds 408 and closes.
        idle_timeout_s: time a connection may stay open with no request in progress
            and no response pending; then the server closes it.
        max_connections: open connections the server serves at once; each one past
            it gets 503 and is closed.
    """

    max_head_bytes: int = DEFAULT_MAX_HEAD_BYTES
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    read_timeout_s: float = DEFAULT_READ_TIMEOUT_S
    idle_timeout_s: float = DEFAULT_IDLE_TIMEOUT_S
    max_connections: int = DEFAULT_MAX_CONNECTIONS

    def __post_init__(self) -> None:
        """Reject limits that would refuse every request.

        Raises:
            TargetConfigError: names the invalid limit and its value.
        """
        for name in ("max_head_bytes", "max_body_bytes", "max_connections"):
            value = getattr(self, name)
            if value < 1:
                raise TargetConfigError(f"{name} must be at least 1, got {value!r}")
        for name in ("read_timeout_s", "idle_timeout_s"):
            value = getattr(self, name)
            if not value > 0:
                raise TargetConfigError(f"{name} must be more than 0 seconds, got {value!r}")

    @property
    def sweep_interval_s(self) -> float:
        """How often a server checks its connections for timeouts.

        A timeout fires between its limit and its limit plus this interval.
        """
        return min(1.0, self.read_timeout_s / 4, self.idle_timeout_s / 4)
