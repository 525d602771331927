"""perfgate verify against a small reference service with one fault switched on at a time."""

from __future__ import annotations

import email.utils
import html
import json
import random
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar
from urllib.parse import parse_qs, urlsplit

import pytest
from typer.testing import CliRunner

from perfgate.cli import app
from perfgate.errors import TargetUnreachableError
from perfgate.verify import VerifyReport, registered_rules, verify_target
from perfgate.verify.model import Verdict
from targets.storage.seed import FORTUNES

ADDED_FORTUNE = (0, "Additional fortune added at request time.")


class ReferenceHandler(BaseHTTPRequestHandler):
    """The TechEmpower endpoints done right, unless `fault` names one thing to do wrong."""

    protocol_version = "HTTP/1.1"
    # Buffer each response whole: separate small writes meet delayed ACKs, 40 ms each.
    wbufsize = 1 << 16
    fault: ClassVar[str] = ""

    def log_message(self, format: str, *args: object) -> None:
        """Keep the test output quiet."""

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        handlers = {
            "/json": self._json,
            "/plaintext": self._plaintext,
            "/db": self._db,
            "/queries": self._queries,
            "/updates": self._queries,
            "/fortunes": self._fortunes,
        }
        handler = handlers.get(url.path)
        if handler is None:
            status = 200 if self.fault == "unknown-path-200" else 404
            self._send(status, "text/plain", b"Not Found")
            return
        handler(parse_qs(url.query, keep_blank_values=True))

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length", "0"))
        self.rfile.read(length)
        extra = () if self.fault == "no-allow" else (("Allow", "GET"),)
        self._send(405, "text/plain", b"Method Not Allowed", extra)

    def _json(self, query: dict[str, list[str]]) -> None:
        message = "Hello, world!" if self.fault == "json-body" else "Hello, World!"
        self._send(200, "application/json", json.dumps({"message": message}).encode())

    def _plaintext(self, query: dict[str, list[str]]) -> None:
        content_type = "application/json" if self.fault == "plaintext-type" else "text/plain"
        self._send(200, content_type, b"Hello, World!")

    def _db(self, query: dict[str, list[str]]) -> None:
        world_id = 1 if self.fault == "db-constant" else random.randint(1, 10_000)
        self._send(200, "application/json", json.dumps(_world(world_id)).encode())

    def _queries(self, query: dict[str, list[str]]) -> None:
        text = query.get("queries", [""])[0]
        count = int(text) if text.isdigit() else 1
        if self.fault != "queries-unclamped":
            count = min(max(count, 1), 500)
        rows = [_world(random.randint(1, 10_000)) for _ in range(count)]
        self._send(200, "application/json", json.dumps(rows).encode())

    def _fortunes(self, query: dict[str, list[str]]) -> None:
        rows = [*FORTUNES, ADDED_FORTUNE]
        if self.fault != "fortunes-unsorted":
            rows.sort(key=lambda row: row[1])
        escape = (lambda text: text) if self.fault == "fortunes-unescaped" else html.escape
        cells = "".join(f"<tr><td>{i}</td><td>{escape(m)}</td></tr>" for i, m in rows)
        page = (
            "<!DOCTYPE html><html><head><title>Fortunes</title></head><body><table>"
            f"<tr><th>id</th><th>message</th></tr>{cells}</table></body></html>"
        )
        self._send(200, "text/html; charset=utf-8", page.encode("utf-8"))

    def _send(
        self,
        status: int,
        content_type: str,
        body: bytes,
        extra: tuple[tuple[str, str], ...] = (),
    ) -> None:
        self.send_response_only(status)
        if self.fault != "no-server":
            self.send_header("Server", "reference")
        if self.fault != "no-date":
            self.send_header("Date", email.utils.formatdate(usegmt=True))
        self.send_header("Content-Type", content_type)
        length = len(body) + 1 if self.fault == "content-length" else len(body)
        self.send_header("Content-Length", str(length))
        for name, value in extra:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)
        if self.fault == "content-length":
            # Close, so the client sees a short body instead of waiting for the last byte.
            self.close_connection = True


def _world(world_id: int) -> dict[str, int]:
    return {"id": world_id, "randomNumber": random.randint(1, 10_000)}


@pytest.fixture
def reference_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), ReferenceHandler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        ReferenceHandler.fault = ""
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def _failed_rules(report: VerifyReport) -> set[str]:
    return {f"{outcome.endpoint} {outcome.name}" for outcome in report.failures}


def test_reference_service_passes(reference_url: str) -> None:
    report = verify_target(reference_url, timeout_s=5)
    assert report.passed, [(o.name, o.message) for o in report.failures]


def test_missing_optional_endpoints_skipped(reference_url: str) -> None:
    report = verify_target(reference_url, timeout_s=5)
    skipped = {
        outcome.endpoint for outcome in report.outcomes if outcome.verdict is Verdict.SKIPPED
    }
    assert skipped == {"/users", "/events"}


@pytest.mark.parametrize(
    ("fault", "failing_endpoint"),
    [
        ("json-body", "/json"),
        ("plaintext-type", "/plaintext"),
        ("db-constant", "/db"),
        ("queries-unclamped", "/queries"),
        ("fortunes-unsorted", "/fortunes"),
        ("fortunes-unescaped", "/fortunes"),
        ("unknown-path-200", "HTTP"),
        ("no-allow", "HTTP"),
    ],
)
def test_fault_fails_its_rule(reference_url: str, fault: str, failing_endpoint: str) -> None:
    ReferenceHandler.fault = fault

    report = verify_target(reference_url, timeout_s=5)

    assert not report.passed
    assert {outcome.endpoint for outcome in report.failures} >= {failing_endpoint}


@pytest.mark.parametrize("fault", ["no-server", "no-date", "content-length"])
def test_missing_common_header_fails_every_endpoint(reference_url: str, fault: str) -> None:
    ReferenceHandler.fault = fault

    report = verify_target(reference_url, timeout_s=5)

    failed = {outcome.endpoint for outcome in report.failures}
    assert failed >= {"/json", "/plaintext", "/db", "/fortunes"}


def test_failure_keeps_offending_response(reference_url: str) -> None:
    ReferenceHandler.fault = "json-body"

    report = verify_target(reference_url, timeout_s=5)

    (failure,) = [outcome for outcome in report.failures if outcome.endpoint == "/json"]
    assert "Hello, world!" in failure.message
    assert failure.response is not None
    assert failure.response.request == "GET /json"
    assert failure.response.status == 200
    assert "Hello, world!" in failure.response.body


def test_unreachable_service_raises() -> None:
    with pytest.raises(TargetUnreachableError, match=r"cannot reach http://127\.0\.0\.1:9/"):
        verify_target("http://127.0.0.1:9/", timeout_s=2)


def test_rules_cover_every_endpoint() -> None:
    endpoints = {candidate.endpoint.name for candidate in registered_rules()}
    assert endpoints == {
        "/json",
        "/plaintext",
        "/db",
        "/queries",
        "/updates",
        "/fortunes",
        "HTTP",
        "/users",
        "/events",
    }


def test_cli_exits_1_and_prints_response(reference_url: str) -> None:
    ReferenceHandler.fault = "fortunes-unescaped"

    result = CliRunner().invoke(app, ["verify", reference_url, "--timeout", "5"])

    assert result.exit_code == 1
    assert "FAILED" in result.output
    assert "unescaped <script>" in result.output
    assert "response to GET /fortunes: 200" in result.output


def test_cli_exits_0_when_all_pass(reference_url: str) -> None:
    result = CliRunner().invoke(app, ["verify", reference_url, "--timeout", "5"])

    assert result.exit_code == 0, result.output
    assert "all 10 rules passed" in result.output
