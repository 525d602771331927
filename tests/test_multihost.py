"""A swarm spread over network namespaces that stand for separate hosts.

The test creates five namespaces and deletes them afterwards, also when it fails: a
switch that contains a bridge, and one host each for the target, the master and two
workers. Each host is joined to the bridge by a veth pair and has its own address in
10.231.0.0/24, so the master, the workers and the target reach each other only over
those links. Nothing outside these namespaces is changed, and all traffic stays
inside them. Creating namespaces needs root and the `ip` command from iproute2.
"""

from __future__ import annotations

import dataclasses
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TextIO

import pytest

from perfgate.histograms.hlog import read_interval_log

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        sys.platform != "linux" or os.geteuid() != 0,
        reason="creating network namespaces with `ip netns` needs root on Linux",
    ),
    pytest.mark.skipif(
        shutil.which("ip") is None or shutil.which("ss") is None,
        reason="needs the `ip` and `ss` commands from iproute2",
    ),
]

SERVER = Path(__file__).resolve().parent / "support" / "known_server.py"
SUBNET_PREFIX = 24
ADDRESSES = {
    "target": "10.231.0.1",
    "master": "10.231.0.2",
    "worker1": "10.231.0.11",
    "worker2": "10.231.0.12",
}
MASTER_PORT = 5557
IP_TIMEOUT_S = 10
START_TIMEOUT_S = 30
RUN_TIMEOUT_S = 90
STOP_TIMEOUT_S = 10
POLL_S = 0.05

# Each user sends 10 requests per second at most, so four users send about 40.
LOCUSTFILE = """
from locust import FastHttpUser, constant_throughput, task

class Client(FastHttpUser):
    wait_time = constant_throughput(10)

    @task
    def get(self) -> None:
        self.client.get("/x", name="/x")
"""


def _ip(*arguments: str) -> None:
    completed = subprocess.run(
        ["ip", *arguments], capture_output=True, text=True, timeout=IP_TIMEOUT_S, check=False
    )
    assert completed.returncode == 0, f"ip {' '.join(arguments)}: {completed.stderr.strip()}"


@dataclasses.dataclass
class Started:
    """A process started inside one namespace, with the file its output goes to."""

    process: subprocess.Popen[bytes]
    log_path: Path
    log_file: TextIO

    def output(self) -> str:
        """Return what the process has written so far."""
        self.log_file.flush()
        return self.log_path.read_text(errors="replace")


class Network:
    """Namespaces for the hosts, a bridge joining them, and the processes run inside."""

    def __init__(self, work_dir: Path) -> None:
        # A prefix of its own, so that test sessions running at once use separate namespaces.
        self.prefix = f"pg{os.getpid() % 100000}{secrets.token_hex(2)}"
        self.switch = f"{self.prefix}-switch"
        self.work_dir = work_dir
        self.created: list[str] = []
        self.started: list[Started] = []

    def namespace(self, host: str) -> str:
        """Return the name of the namespace that stands for `host`."""
        return f"{self.prefix}-{host}"

    def create(self) -> None:
        """Create the switch with its bridge, then each host with its veth link and address."""
        self._add_namespace(self.switch)
        _ip("-n", self.switch, "link", "add", "br0", "type", "bridge")
        _ip("-n", self.switch, "link", "set", "br0", "up")
        for host, address in ADDRESSES.items():
            namespace = self.namespace(host)
            self._add_namespace(namespace)
            port = f"to-{host}"
            _ip("-n", self.switch, "link", "add", port, "type", "veth",
                "peer", "name", "eth0", "netns", namespace)  # fmt: skip
            _ip("-n", self.switch, "link", "set", port, "master", "br0")
            _ip("-n", self.switch, "link", "set", port, "up")
            _ip("-n", namespace, "addr", "add", f"{address}/{SUBNET_PREFIX}", "dev", "eth0")
            _ip("-n", namespace, "link", "set", "eth0", "up")

    def _add_namespace(self, namespace: str) -> None:
        _ip("netns", "add", namespace)
        self.created.append(namespace)
        _ip("-n", namespace, "link", "set", "lo", "up")

    def cut(self, host: str) -> None:
        """Take the switch's end of the host's link down, so nothing reaches the host."""
        _ip("-n", self.switch, "link", "set", f"to-{host}", "down")

    def start(self, host: str, name: str, command: list[str]) -> Started:
        """Start `command` inside the host's namespace, its output going to a log file."""
        log_path = self.work_dir / f"{name}.log"
        log_file = log_path.open("w")
        process = subprocess.Popen(
            ["ip", "netns", "exec", self.namespace(host), *command],
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
        started = Started(process, log_path, log_file)
        self.started.append(started)
        return started

    def connections(self, host: str, peer_address: str) -> list[str]:
        """Return the host's established TCP connections to `peer_address`."""
        completed = subprocess.run(
            ["ip", "netns", "exec", self.namespace(host),
             "ss", "-Htn", "state", "established", "dst", peer_address],
            capture_output=True, text=True, timeout=IP_TIMEOUT_S, check=True,
        )  # fmt: skip
        return completed.stdout.splitlines()

    def close(self) -> None:
        """Stop every process started here, then delete every namespace created here."""
        for started in self.started:
            if started.process.poll() is None:
                started.process.kill()
            started.process.wait(timeout=STOP_TIMEOUT_S)
            started.log_file.close()
        errors = []
        # Deleting a namespace removes its end of each veth pair, and with it the peer.
        for namespace in reversed(self.created):
            completed = subprocess.run(
                ["ip", "netns", "del", namespace],
                capture_output=True, text=True, timeout=IP_TIMEOUT_S, check=False,
            )  # fmt: skip
            if completed.returncode != 0:
                errors.append(f"{namespace}: {completed.stderr.strip()}")
        assert not errors, f"namespaces left behind: {errors}"


@pytest.fixture
def network(tmp_path: Path) -> Iterator[Network]:
    """Create the hosts' namespaces; delete them and stop their processes afterwards."""
    hosts = Network(tmp_path)
    try:
        hosts.create()
        yield hosts
    finally:
        hosts.close()


@dataclasses.dataclass
class Swarm:
    """The processes of one distributed run and where its files go."""

    target_url: str
    target: Started
    record_path: Path
    master: Started
    workers: list[Started]
    out: Path


def _wait_for_file(path: Path, started: Started) -> str:
    deadline = time.monotonic() + START_TIMEOUT_S
    while not path.exists():
        assert started.process.poll() is None, f"exited early:\n{started.output()}"
        assert time.monotonic() < deadline, f"{path.name} not written within {START_TIMEOUT_S} s"
        time.sleep(POLL_S)
    return path.read_text()


def _start_swarm(network: Network, tmp_path: Path, duration: str) -> Swarm:
    """Start the target, then a master waiting for two workers, then the two workers."""
    locustfile = tmp_path / "client.py"
    locustfile.write_text(LOCUSTFILE)
    ready_path, record_path = tmp_path / "target.ready", tmp_path / "target.json"
    target = network.start(
        "target", "target",
        [sys.executable, str(SERVER), "--bind", ADDRESSES["target"],
         "--ready-file", str(ready_path), "--record-file", str(record_path)],
    )  # fmt: skip
    target_url = f"http://{_wait_for_file(ready_path, target)}"

    out = tmp_path / "results"
    master = network.start(
        "master", "master",
        [sys.executable, "-m", "perfgate", "run", "--host", target_url,
         "--locustfile", str(locustfile), "--workers", "0", "--expect-workers", "2",
         "--master-bind", ADDRESSES["master"], "--master-port", str(MASTER_PORT),
         "--users", "4", "--spawn-rate", "4", "--duration", duration,
         "--worker-join-timeout", "60", "--out", str(out)],
    )  # fmt: skip
    worker_command = [
        sys.executable, "-m", "perfgate", "worker",
        "--master", f"{ADDRESSES['master']}:{MASTER_PORT}", "--locustfile", str(locustfile),
    ]  # fmt: skip
    workers = [network.start(host, host, worker_command) for host in ("worker1", "worker2")]
    return Swarm(target_url, target, record_path, master, workers, out)


def _wait_for_exit(started: Started, timeout_s: float) -> int:
    try:
        return started.process.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        pytest.fail(f"no exit within {timeout_s} s:\n{started.output()[-3000:]}")


def _stop_target(swarm: Swarm) -> dict[str, Any]:
    """Stop the target with SIGTERM and return its record of the requests it served."""
    swarm.target.process.send_signal(signal.SIGTERM)
    _wait_for_exit(swarm.target, STOP_TIMEOUT_S)
    record: dict[str, Any] = json.loads(swarm.record_path.read_text())
    return record


def _run_record(swarm: Swarm) -> dict[str, Any]:
    (run_dir,) = swarm.out.iterdir()
    record: dict[str, Any] = json.loads((run_dir / "run.json").read_text())
    return record


def test_merged_counts_match_target(network: Network, tmp_path: Path) -> None:
    swarm = _start_swarm(network, tmp_path, duration="4s")

    exit_code = _wait_for_exit(swarm.master, RUN_TIMEOUT_S)
    served = _stop_target(swarm)
    run = _run_record(swarm)
    (run_dir,) = swarm.out.iterdir()
    merged = sum(
        interval.histogram.get_total_count()
        for interval in read_interval_log(run_dir / "histograms.hlog")
        if interval.tag == "GET /x"
    )

    assert exit_code == 0, swarm.master.output()[-3000:]
    by_client = served["requests_by_client"]
    assert set(by_client) == {ADDRESSES["master"], ADDRESSES["worker1"], ADDRESSES["worker2"]}
    # The master sends one request to check that the target is reachable; the workers
    # send the load.
    assert by_client[ADDRESSES["master"]] == 1
    assert by_client[ADDRESSES["worker1"]] > 0
    assert by_client[ADDRESSES["worker2"]] > 0
    from_workers = by_client[ADDRESSES["worker1"]] + by_client[ADDRESSES["worker2"]]
    generator = run["generator"]
    assert generator["workers"] == 2
    assert generator["workers_lost"] == 0
    assert generator["requests_recorded"] == from_workers
    assert generator["locust_requests"] == from_workers
    assert merged == from_workers
    assert run["verdict"] == "pass"


def test_worker_cut_off_invalidates_run(network: Network, tmp_path: Path) -> None:
    swarm = _start_swarm(network, tmp_path, duration="8s")
    deadline = time.monotonic() + START_TIMEOUT_S * 2
    # The run is under way once worker 2's users hold connections to the target.
    while not network.connections("worker2", ADDRESSES["target"]):
        for started in (swarm.master, *swarm.workers):
            assert started.process.poll() is None, started.output()[-3000:]
        assert time.monotonic() < deadline, "worker 2 never connected to the target"
        time.sleep(POLL_S)

    network.cut("worker2")
    exit_code = _wait_for_exit(swarm.master, RUN_TIMEOUT_S)
    _stop_target(swarm)
    run = _run_record(swarm)

    assert exit_code == 3, swarm.master.output()[-3000:]
    assert run["verdict"] == "invalid"
    assert run["generator"]["workers"] == 2
    assert run["generator"]["workers_lost"] == 1
    assert any("lost" in reason for reason in run["invalid_reasons"]), run["invalid_reasons"]
