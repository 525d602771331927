"""The version check between a worker and its master: in memory, then with real processes."""

from __future__ import annotations

import dataclasses
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec
import pytest

import perfgate
from perfgate.errors import VersionMismatchError
from perfgate.swarm.handshake import (
    HELLO_MESSAGE,
    VERDICT_MESSAGE,
    MasterVersionCheck,
    Versions,
    WorkerVersionCheck,
    version_mismatch,
)

SERVER = Path(__file__).resolve().parents[1] / "support" / "known_server.py"
PROCESS_TIMEOUT_S = 60
MASTER_VERSIONS = Versions(perfgate="0.1.0", locust="2.47.0", wire=1)

LOCUSTFILE = """
from locust import FastHttpUser, constant_throughput, task

class Client(FastHttpUser):
    wait_time = constant_throughput(5)

    @task
    def get(self) -> None:
        self.client.get("/x", name="/x")
"""

# Runs the perfgate CLI with the version given as the first argument in place of the
# installed one, so that one process of a real swarm disagrees with the other.
FAKE_VERSION_CLI = (
    "import sys, perfgate; perfgate.__version__ = sys.argv.pop(1); "
    "from perfgate.cli import main; main()"
)


@dataclasses.dataclass
class Message:
    """The two fields of a Locust message that the version check reads."""

    data: Any
    node_id: str


@dataclasses.dataclass
class Node:
    id: str


@dataclasses.dataclass
class Clients:
    ready: list[Node] = dataclasses.field(default_factory=list)
    spawning: list[Node] = dataclasses.field(default_factory=list)
    running: list[Node] = dataclasses.field(default_factory=list)


class FakeRunner:
    """A Locust runner that delivers sent messages straight to a peer's handlers."""

    def __init__(self, node_id: str) -> None:
        self.node_id = node_id
        self.handlers: dict[str, Any] = {}
        self.sent: list[tuple[str, Any, str | None]] = []
        self.peer: FakeRunner | None = None
        self.clients = Clients()
        self.quit_called = False

    def register_message(self, msg_type: str, listener: Any) -> None:
        self.handlers[msg_type] = listener

    def send_message(self, msg_type: str, data: Any = None, client_id: str | None = None) -> None:
        self.sent.append((msg_type, data, client_id))
        if self.peer is not None and msg_type in self.peer.handlers:
            self.peer.handlers[msg_type](environment=None, msg=Message(data, self.node_id))

    def quit(self) -> None:
        self.quit_called = True


def _connected_pair(worker_id: str = "worker-a") -> tuple[FakeRunner, FakeRunner]:
    master, worker = FakeRunner("master"), FakeRunner(worker_id)
    master.peer, worker.peer = worker, master
    master.clients.ready.append(Node(worker_id))
    return master, worker


def test_mismatch_none_for_equal_versions() -> None:
    assert version_mismatch(MASTER_VERSIONS, MASTER_VERSIONS) is None


@pytest.mark.parametrize(
    "field",
    [
        pytest.param({"perfgate": "0.2.0"}, id="perfgate"),
        pytest.param({"locust": "2.46.1"}, id="locust"),
        pytest.param({"wire": 2}, id="wire"),
    ],
)
def test_mismatch_names_both_versions_and_fix(field: dict[str, Any]) -> None:
    worker = msgspec.structs.replace(MASTER_VERSIONS, **field)

    message = version_mismatch(worker, MASTER_VERSIONS)

    assert message is not None
    assert worker.describe() in message
    assert MASTER_VERSIONS.describe() in message
    assert "install the same perfgate and Locust versions on every machine" in message


def test_master_accepts_worker_with_equal_versions() -> None:
    master_runner, worker_runner = _connected_pair()
    master = MasterVersionCheck(master_runner, MASTER_VERSIONS)
    worker = WorkerVersionCheck(worker_runner, MASTER_VERSIONS)

    worker.verify("master:5557", timeout_s=1.0)

    assert master.joined_workers() == {"worker-a"}
    master.raise_if_rejected()
    assert not worker_runner.quit_called


def test_master_counts_no_worker_before_its_hello() -> None:
    master_runner, _worker_runner = _connected_pair()
    master = MasterVersionCheck(master_runner, MASTER_VERSIONS)

    assert master.joined_workers() == set()


def test_master_stops_counting_worker_that_left() -> None:
    master_runner, worker_runner = _connected_pair()
    master = MasterVersionCheck(master_runner, MASTER_VERSIONS)
    WorkerVersionCheck(worker_runner, MASTER_VERSIONS).verify("master:5557", timeout_s=1.0)

    master_runner.clients.ready.clear()

    assert master.joined_workers() == set()


def test_mismatch_fails_on_both_sides() -> None:
    master_runner, worker_runner = _connected_pair()
    master = MasterVersionCheck(master_runner, MASTER_VERSIONS)
    worker_versions = msgspec.structs.replace(MASTER_VERSIONS, perfgate="0.0.9")
    worker = WorkerVersionCheck(worker_runner, worker_versions)

    with pytest.raises(VersionMismatchError, match=r"master at master:5557 rejected this worker"):
        worker.verify("master:5557", timeout_s=1.0)

    assert master.joined_workers() == set()
    with pytest.raises(
        VersionMismatchError, match=r"version mismatch with worker worker-a: .*0\.0\.9"
    ):
        master.raise_if_rejected()
    (verdict_type, verdict, client_id) = master_runner.sent[-1]
    assert verdict_type == VERDICT_MESSAGE
    assert client_id == "worker-a"
    assert verdict["accepted"] is False


def test_master_rejects_unreadable_hello() -> None:
    master_runner, _worker_runner = _connected_pair()
    master = MasterVersionCheck(master_runner, MASTER_VERSIONS)

    master_runner.handlers[HELLO_MESSAGE](environment=None, msg=Message("0.1.0", "worker-a"))

    with pytest.raises(VersionMismatchError, match=r"cannot read"):
        master.raise_if_rejected()
    assert master_runner.sent[-1][1]["accepted"] is False


def test_worker_fails_when_master_never_answers() -> None:
    worker_runner = FakeRunner("worker-a")  # no peer: the hello goes nowhere
    worker = WorkerVersionCheck(worker_runner, MASTER_VERSIONS)

    with pytest.raises(VersionMismatchError, match=r"sent no answer to the version check"):
        worker.verify("master:5557", timeout_s=0.05)
    assert worker_runner.sent[0][0] == HELLO_MESSAGE


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@pytest.fixture
def target_url(tmp_path: Path) -> Iterator[str]:
    """Start the known server on loopback and return its URL; stop it afterwards."""
    ready = tmp_path / "server.ready"
    server = subprocess.Popen(
        [sys.executable, str(SERVER), "--ready-file", str(ready),
         "--record-file", str(tmp_path / "server.json")],
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while not ready.exists():
            assert server.poll() is None, "the known server exited before it was ready"
            assert time.monotonic() < deadline, "the known server was not ready within 30 s"
            time.sleep(0.05)
        yield f"http://{ready.read_text()}"
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


@pytest.mark.e2e
def test_real_worker_with_other_version_rejected(tmp_path: Path, target_url: str) -> None:
    locustfile = tmp_path / "client.py"
    locustfile.write_text(LOCUSTFILE)
    port = _free_port()
    master = subprocess.Popen(
        [sys.executable, "-m", "perfgate", "run", "--host", target_url,
         "--locustfile", str(locustfile), "--workers", "0", "--expect-workers", "1",
         "--master-port", str(port), "--users", "1", "--duration", "2s",
         "--worker-join-timeout", "30", "--out", str(tmp_path / "results")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        worker = subprocess.run(
            [sys.executable, "-c", FAKE_VERSION_CLI, "0.0.0+fake", "worker",
             "--master", f"127.0.0.1:{port}", "--locustfile", str(locustfile)],
            capture_output=True, text=True, timeout=PROCESS_TIMEOUT_S, check=False,
        )  # fmt: skip
        _master_out, master_err = master.communicate(timeout=PROCESS_TIMEOUT_S)
    finally:
        if master.poll() is None:
            master.kill()
            master.wait()

    assert worker.returncode == 2, worker.stderr
    assert "rejected this worker" in worker.stderr
    assert "perfgate 0.0.0+fake" in worker.stderr
    assert f"perfgate {perfgate.__version__}" in worker.stderr
    assert master.returncode == 2, master_err
    assert "version mismatch with worker" in master_err
    assert "perfgate 0.0.0+fake" in master_err
    assert "install the same perfgate and Locust versions" in master_err
