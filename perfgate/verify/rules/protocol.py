"""HTTP rules every endpoint shares: unknown paths, wrong methods, and connection reuse."""

from __future__ import annotations

from perfgate.verify.expect import expect_common_headers, expect_status
from perfgate.verify.model import RuleViolationError
from perfgate.verify.registry import Endpoint, Probe, rule

HTTP = Endpoint("HTTP")


@rule(HTTP, "an unknown path gets 404 with the common headers")
def unknown_path(probe: Probe) -> None:
    response = probe.get("/perfgate-verify-no-such-path")
    expect_status(response, 404)
    expect_common_headers(response)


@rule(HTTP, "a wrong method gets 405 with an Allow header naming GET")
def wrong_method(probe: Probe) -> None:
    response = probe.post("/json", content=b"")
    expect_status(response, 405)
    expect_common_headers(response)
    allow = response.headers.get("allow")
    if allow is None:
        raise RuleViolationError("expected an Allow header on 405, got none")
    if "GET" not in {method.strip().upper() for method in allow.split(",")}:
        raise RuleViolationError(f"expected Allow to name GET, got {allow!r}")


@rule(HTTP, "a keep-alive connection serves several requests in a row")
def keep_alive(probe: Probe) -> None:
    for _ in range(3):
        response = probe.get("/plaintext")
        expect_status(response, 200)
        if response.headers.get("connection", "").lower() == "close":
            raise RuleViolationError(
                "the service closed an HTTP/1.1 connection that asked to stay open"
            )
