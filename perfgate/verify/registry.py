"""Rules and the endpoints they belong to, registered by decorator and run in order."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import httpx

from perfgate.verify.model import RuleViolationError


class Probe:
    """The HTTP client a rule sends requests with; it keeps the last response for reports."""

    def __init__(self, client: httpx.Client) -> None:
        """Send requests through `client`, whose base URL is the service's."""
        self._client = client
        self.last_response: httpx.Response | None = None

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """Send one request and keep its response as `last_response`.

        Raises:
            RuleViolationError: the request failed at the transport level (refused, reset,
                timed out, malformed response).
        """
        try:
            response = self._client.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise RuleViolationError(
                f"{method} {path} failed: {type(exc).__name__}: {exc}"
            ) from exc
        self.last_response = response
        return response

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        """Send `GET path`."""
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> httpx.Response:
        """Send `POST path`."""
        return self.request("POST", path, **kwargs)


@dataclasses.dataclass(frozen=True)
class Endpoint:
    """A group of rules, and how to tell whether the service has the endpoint at all.

    Attributes:
        name: the path the group is named after, such as `/users`.
        optional: when true, the group's rules are skipped if `exists` returns false;
            required endpoints (the TechEmpower set) always run.
        exists: sends one cheap request and returns whether the endpoint is routed.
    """

    name: str
    optional: bool = False
    exists: Callable[[Probe], bool] | None = None


@dataclasses.dataclass(frozen=True)
class Rule:
    """One check of one endpoint: `check(probe)` returns when it holds, raises when not.

    Attributes:
        endpoint: the group the rule belongs to.
        name: what the rule checks, as a sentence fragment.
        check: sends requests through the probe and raises `RuleViolationError` on a
            violation.
    """

    endpoint: Endpoint
    name: str
    check: Callable[[Probe], None]


_RULES: list[Rule] = []


def rule(
    endpoint: Endpoint, name: str
) -> Callable[[Callable[[Probe], None]], Callable[[Probe], None]]:
    """Register the decorated function as a rule of `endpoint`, run in definition order."""

    def register(check: Callable[[Probe], None]) -> Callable[[Probe], None]:
        _RULES.append(Rule(endpoint, name, check))
        return check

    return register


def registered_rules() -> list[Rule]:
    """Return every registered rule, importing the rule modules first."""
    import perfgate.verify.rules  # noqa: F401  (registers the rules on import)

    return list(_RULES)


def route_exists(method: str, path: str, **kwargs: Any) -> Callable[[Probe], bool]:
    """Build an `Endpoint.exists` check: the route exists unless `method path` gets 404 or 405."""

    def exists(probe: Probe) -> bool:
        return probe.request(method, path, **kwargs).status_code not in (404, 405)

    return exists
