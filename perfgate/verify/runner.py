"""Run every rule against one service and collect the outcomes."""

from __future__ import annotations

import logging

import httpx

from perfgate.errors import TargetUnreachableError
from perfgate.verify.model import (
    ResponseExcerpt,
    RuleOutcome,
    RuleViolationError,
    Verdict,
    VerifyReport,
)
from perfgate.verify.registry import Endpoint, Probe, Rule, registered_rules

logger = logging.getLogger(__name__)

DEFAULT_TIMEOUT_S = 10.0


def verify_target(
    url: str, timeout_s: float = DEFAULT_TIMEOUT_S, rules: list[Rule] | None = None
) -> VerifyReport:
    """Check the service at `url` against every rule and return the outcomes.

    Required endpoints' rules run first, then the optional ones whose endpoint the
    service routes. Every request shares one keep-alive connection pool.

    Args:
        url: the service's base URL, such as `http://127.0.0.1:8080`.
        timeout_s: limit for each request's connect, read and write.
        rules: the rules to run; every registered rule when `None`.

    Raises:
        TargetUnreachableError: no connection to `url` could be opened.
    """
    selected = registered_rules() if rules is None else rules
    ordered = sorted(selected, key=lambda candidate: candidate.endpoint.optional)
    with httpx.Client(base_url=url, timeout=timeout_s) as client:
        probe = Probe(client)
        _check_reachable(client, url)
        present: dict[str, bool] = {}
        outcomes = [_run_rule(candidate, probe, present) for candidate in ordered]
    report = VerifyReport(url=url, outcomes=tuple(outcomes))
    logger.info("verified %s: %d rules, %d failed", url, len(report.outcomes), len(report.failures))
    return report


def _check_reachable(client: httpx.Client, url: str) -> None:
    """Raise if no connection opens; any response, even a malformed one, counts as reachable."""
    try:
        client.get("/")
    except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
        raise TargetUnreachableError(
            f"cannot reach {url}: {type(exc).__name__}: {exc}. Start the service or fix the URL"
        ) from exc
    except httpx.HTTPError:
        logger.debug("GET / on %s failed; the rules report how", url, exc_info=True)


def _run_rule(rule: Rule, probe: Probe, present: dict[str, bool]) -> RuleOutcome:
    endpoint = rule.endpoint
    probe.last_response = None
    try:
        if not _endpoint_present(endpoint, probe, present):
            return RuleOutcome(
                endpoint.name,
                rule.name,
                Verdict.SKIPPED,
                f"the service does not route {endpoint.name}",
            )
        rule.check(probe)
    except RuleViolationError as exc:
        return RuleOutcome(endpoint.name, rule.name, Verdict.FAILED, str(exc), _excerpt(probe))
    return RuleOutcome(endpoint.name, rule.name, Verdict.PASSED)


def _endpoint_present(endpoint: Endpoint, probe: Probe, present: dict[str, bool]) -> bool:
    """Probe an optional endpoint once per run; required endpoints are always present."""
    if not endpoint.optional or endpoint.exists is None:
        return True
    if endpoint.name not in present:
        present[endpoint.name] = endpoint.exists(probe)
    return present[endpoint.name]


def _excerpt(probe: Probe) -> ResponseExcerpt | None:
    if probe.last_response is None:
        return None
    return ResponseExcerpt.of(probe.last_response)
