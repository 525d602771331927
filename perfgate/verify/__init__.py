"""Check a running service against every endpoint rule before it is measured.

`verify_target(url)` runs each registered rule with httpx and returns a
`VerifyReport`; `perfgate verify URL` prints it. Rules live in
`perfgate.verify.rules`, one module per group of endpoints, and register themselves
with the `rule` decorator, so a new endpoint adds its rules in a new module.
"""

from __future__ import annotations

from perfgate.verify.model import ResponseExcerpt, RuleOutcome, RuleViolationError, VerifyReport
from perfgate.verify.registry import Endpoint, Probe, Rule, registered_rules, rule
from perfgate.verify.runner import verify_target

__all__ = [
    "Endpoint",
    "Probe",
    "ResponseExcerpt",
    "Rule",
    "RuleOutcome",
    "RuleViolationError",
    "VerifyReport",
    "registered_rules",
    "rule",
    "verify_target",
]
