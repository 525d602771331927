"""The rule modules; importing this package registers every rule, in this order."""

from perfgate.verify.rules import events, protocol, techempower, users

__all__ = ["events", "protocol", "techempower", "users"]
