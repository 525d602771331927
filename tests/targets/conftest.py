"""Fixtures for the target tests: a real `perfgate serve` subprocess and a raw HTTP client."""

from __future__ import annotations

import dataclasses
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

import httptools
import pytest

READY_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 10.0
SOCKET_TIMEOUT_S = 10.0
POLL_INTERVAL_S = 0.02


@dataclasses.dataclass(frozen=True)
class Variant:
    """One combination of command-line choices a conformance test runs against."""

    loop: str
    codec: str
    sqlite_mode: str

    @property
    def id(self) -> str:
        return f"{self.loop}-{self.codec}-{self.sqlite_mode}"


# Every loop, codec and SQLite mode appears at least once, defaults first.
VARIANTS = (
    Variant("uvloop", "orjson", "inline"),
    Variant("asyncio", "json", "inline"),
    Variant("uvloop", "msgspec", "threads"),
    Variant("asyncio", "orjson", "aiosqlite"),
)


@dataclasses.dataclass
class TargetProcess:
    """A `perfgate serve` subprocess that has written its ready file."""

    process: subprocess.Popen[bytes]
    host: str
    port: int
    data_dir: Path
    ready_file: Path
    log_file: Path

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def log_text(self) -> str:
        return self.log_file.read_text(encoding="utf-8", errors="replace")

    def send_signal(self, signum: signal.Signals) -> None:
        self.process.send_signal(signum)

    def wait(self, timeout_s: float = STOP_TIMEOUT_S) -> int:
        return self.process.wait(timeout=timeout_s)

    def kill(self) -> None:
        """Stop the process: SIGTERM, then SIGKILL if it does not exit in time."""
        if self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=STOP_TIMEOUT_S)


def serve_command(work_dir: Path, *options: str) -> list[str]:
    """Build the `perfgate serve` command line for a free port and a ready file in `work_dir`."""
    return [
        sys.executable,
        "-m",
        "perfgate",
        "serve",
        "--port",
        "0",
        "--ready-file",
        str(work_dir / "ready"),
        "--data-dir",
        str(work_dir / "data"),
        *options,
    ]


def launch_target(work_dir: Path, *options: str) -> TargetProcess:
    """Start `perfgate serve` and wait, bounded, until its ready file names the port.

    The caller must call `kill` on the result; the `start_target` fixture does.
    """
    work_dir.mkdir(parents=True, exist_ok=True)
    ready_file = work_dir / "ready"
    log_file = work_dir / "serve.log"
    with log_file.open("wb") as log:
        process = subprocess.Popen(
            serve_command(work_dir, *options),
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
    target = TargetProcess(process, "", 0, work_dir / "data", ready_file, log_file)
    try:
        target.host, target.port = _wait_for_ready_file(target)
    except BaseException:
        target.kill()
        raise
    return target


def _wait_for_ready_file(target: TargetProcess) -> tuple[str, int]:
    deadline_s = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline_s:
        if target.ready_file.exists():
            host, _, port = target.ready_file.read_text(encoding="ascii").rpartition(":")
            return host, int(port)
        if target.process.poll() is not None:
            pytest.fail(
                f"perfgate serve exited with {target.process.returncode} before it was ready:\n"
                f"{target.log_text()}"
            )
        time.sleep(POLL_INTERVAL_S)
    pytest.fail(f"perfgate serve wrote no ready file in {READY_TIMEOUT_S} s:\n{target.log_text()}")


@pytest.fixture
def start_target(tmp_path: Path) -> Iterator[StartTarget]:
    """Start `perfgate serve` subprocesses in `tmp_path`; all are killed at teardown."""
    started: list[TargetProcess] = []

    def start(name: str = "target", *options: str) -> TargetProcess:
        target = launch_target(tmp_path / name, *options)
        started.append(target)
        return target

    yield start
    for target in started:
        target.kill()


class StartTarget(Protocol):
    """Type of the `start_target` fixture: `start(name, *options) -> TargetProcess`."""

    def __call__(self, name: str = "target", *options: str) -> TargetProcess: ...


class LaunchTarget(Protocol):
    """Type of `launch_target`: `launch(work_dir, *options) -> TargetProcess`."""

    def __call__(self, work_dir: Path, *options: str) -> TargetProcess: ...


@pytest.fixture(scope="session")
def launch() -> LaunchTarget:
    """`launch_target` itself, for fixtures of wider scope; the caller must kill the target."""
    return launch_target


@pytest.fixture(scope="module", params=VARIANTS, ids=lambda variant: variant.id)
def target(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TargetProcess]:
    """A running target per variant, shared by the tests of one module."""
    variant: Variant = request.param
    work_dir = tmp_path_factory.mktemp(variant.id)
    process = launch_target(
        work_dir,
        "--loop",
        variant.loop,
        "--codec",
        variant.codec,
        "--sqlite-mode",
        variant.sqlite_mode,
    )
    yield process
    process.kill()


@dataclasses.dataclass
class RawResponse:
    """One HTTP response as read from the wire."""

    status: int
    http_version: str
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        """Return the value of the first header called `name`, ignoring case."""
        for key, value in self.headers:
            if key.lower() == name.lower():
                return value
        return None


class _ResponseCollector:
    """httptools callbacks that collect complete responses."""

    def __init__(self) -> None:
        self.responses: list[RawResponse] = []
        self._headers: list[tuple[str, str]] = []
        self._body = bytearray()
        self.parser = httptools.HttpResponseParser(self)

    def on_message_begin(self) -> None:
        self._headers = []
        self._body = bytearray()

    def on_header(self, name: bytes, value: bytes) -> None:
        self._headers.append((name.decode("latin-1"), value.decode("latin-1")))

    def on_body(self, body: bytes) -> None:
        self._body += body

    def on_message_complete(self) -> None:
        self.responses.append(
            RawResponse(
                status=self.parser.get_status_code(),
                http_version=self.parser.get_http_version(),
                headers=self._headers,
                body=bytes(self._body),
            )
        )


class RawClient:
    """A plain TCP connection for what httpx hides: pipelining, bad requests, closing."""

    def __init__(self, host: str, port: int) -> None:
        self.sock = socket.create_connection((host, port), timeout=SOCKET_TIMEOUT_S)
        self._collector = _ResponseCollector()
        self._closed = False

    @property
    def responses(self) -> list[RawResponse]:
        """Every response parsed so far on this connection."""
        return list(self._collector.responses)

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def read_responses(self, count: int) -> list[RawResponse]:
        """Read until `count` more responses are complete; the socket timeout bounds each read."""
        start = len(self._collector.responses)
        while len(self._collector.responses) - start < count:
            data = self.sock.recv(65536)
            if not data:
                self._closed = True
                break
            self._collector.parser.feed_data(data)
        return self._collector.responses[start:]

    def is_closed_by_server(self, timeout_s: float = SOCKET_TIMEOUT_S) -> bool:
        """Return whether the server closes the connection within `timeout_s`.

        Responses that arrive meanwhile are parsed and kept.
        """
        deadline_s = time.monotonic() + timeout_s
        while not self._closed:
            remaining_s = deadline_s - time.monotonic()
            if remaining_s <= 0:
                return False
            self.sock.settimeout(remaining_s)
            try:
                data = self.sock.recv(65536)
            except TimeoutError:
                return False
            except ConnectionResetError:
                data = b""
            finally:
                self.sock.settimeout(SOCKET_TIMEOUT_S)
            if not data:
                self._closed = True
            else:
                self._collector.parser.feed_data(data)
        return True

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def raw_client() -> Iterator[RawClientFactory]:
    """Open raw connections to a target; all are closed at teardown."""
    clients: list[RawClient] = []

    def connect(target: TargetProcess) -> RawClient:
        client = RawClient(target.host, target.port)
        clients.append(client)
        return client

    yield connect
    for client in clients:
        client.close()


class RawClientFactory(Protocol):
    """Type of the `raw_client` fixture: `connect(target) -> RawClient`."""

    def __call__(self, target: TargetProcess) -> RawClient: ...
