"""Errors raised by the reference targets.

TargetError                  root
├── TargetConfigError        an unknown variant name or an invalid setting: fix the option
├── StorageError             a shard cannot be opened, created or queried
│   ├── ShardUnavailableError  a shard timed out or is unreachable: retry later (HTTP 503)
│   └── DuplicateKeyError      a row with that key exists already: use another key (HTTP 409)
├── QueueFullError           the event queue is at its limit: retry later (HTTP 503)
└── CodecError               (targets.codecs.errors) a body or value JSON cannot carry
    ├── InvalidBodyError       a request body that is not acceptable JSON (HTTP 400)
    ├── SchemaViolationError   JSON that breaks the body's schema (HTTP 422)
    └── UnencodableValueError  a response value JSON cannot carry exactly (HTTP 500)
"""

from __future__ import annotations


class TargetError(Exception):
    """Root of the targets' errors."""


class TargetConfigError(TargetError):
    """An unknown variant name or an invalid setting."""


class StorageError(TargetError):
    """A shard cannot be opened, created or queried."""


class ShardUnavailableError(StorageError):
    """A shard timed out or cannot be reached; requests for its keys fail until it returns.

    Attributes:
        shard: the logical shard index.
    """

    def __init__(self, shard: int, reason: str) -> None:
        """Report that `shard` is unavailable because of `reason`."""
        super().__init__(f"shard {shard} is unavailable: {reason}")
        self.shard = shard


class DuplicateKeyError(StorageError):
    """A row with the same primary key exists already."""


class QueueFullError(TargetError):
    """The event queue contains its maximum number of unprocessed events.

    Attributes:
        retry_after_s: how long the client should wait before it retries.
    """

    def __init__(self, message: str, retry_after_s: int) -> None:
        """Report a full queue and the wait, in whole seconds, to send in `Retry-After`."""
        super().__init__(message)
        self.retry_after_s = retry_after_s
