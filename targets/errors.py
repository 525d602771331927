"""Errors raised by the reference targets.

TargetError            root
├── TargetConfigError  an unknown variant name or an invalid setting: fix the option
└── StorageError       a shard cannot be opened, created or queried
"""

from __future__ import annotations


class TargetError(Exception):
    """Root of the targets' errors."""


class TargetConfigError(TargetError):
    """An unknown variant name or an invalid setting."""


class StorageError(TargetError):
    """A shard cannot be opened, created or queried."""
