"""Fixtures of the fault tests: the `perfgate serve` launcher of the target tests."""

from tests.targets.conftest import start_target

__all__ = ["start_target"]
