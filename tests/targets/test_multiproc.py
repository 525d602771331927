"""`perfgate serve --procs N`: N processes on one port, stopped together."""

from __future__ import annotations

import signal
import time
from typing import TYPE_CHECKING

import httpx
import psutil

if TYPE_CHECKING:
    from tests.targets.conftest import StartTarget

STOP_TIMEOUT_S = 20.0


def _server_processes(pid: int) -> list[psutil.Process]:
    """The children that serve, leaving out multiprocessing's resource tracker."""
    children = psutil.Process(pid).children()
    return [child for child in children if "resource_tracker" not in " ".join(child.cmdline())]


def test_procs_share_one_port(start_target: StartTarget) -> None:
    target = start_target("procs", "--procs", "2")

    servers = _server_processes(target.process.pid)
    listening = {
        child.pid
        for child in servers
        for connection in child.net_connections(kind="tcp")
        if connection.status == psutil.CONN_LISTEN and connection.laddr.port == target.port
    }

    assert len(servers) == 2
    assert listening == {child.pid for child in servers}
    with httpx.Client(base_url=target.base_url, timeout=10) as client:
        assert all(client.get("/db").status_code == 200 for _ in range(20))


def test_sigterm_stops_every_process(start_target: StartTarget) -> None:
    target = start_target("procs", "--procs", "2")
    children = psutil.Process(target.process.pid).children(recursive=True)

    target.send_signal(signal.SIGTERM)

    assert target.wait(STOP_TIMEOUT_S) == 0
    _, alive = psutil.wait_procs(children, timeout=STOP_TIMEOUT_S)
    assert alive == []
    assert not target.ready_file.exists()


def test_sigint_stops_every_process(start_target: StartTarget) -> None:
    target = start_target("procs", "--procs", "2", "--target", "asgi", "--server", "uvicorn")
    children = psutil.Process(target.process.pid).children(recursive=True)

    target.send_signal(signal.SIGINT)

    assert target.wait(STOP_TIMEOUT_S) == 0
    _, alive = psutil.wait_procs(children, timeout=STOP_TIMEOUT_S)
    assert alive == []


def test_dead_process_stops_the_others(start_target: StartTarget) -> None:
    target = start_target("procs", "--procs", "2")
    first, second = _server_processes(target.process.pid)

    first.kill()

    assert target.wait(STOP_TIMEOUT_S) != 0
    second.wait(STOP_TIMEOUT_S)
    assert not second.is_running()
    deadline_s = time.monotonic() + STOP_TIMEOUT_S
    while "exited with code" not in target.log_text() and time.monotonic() < deadline_s:
        time.sleep(0.05)
    assert "exited with code -9 while serving" in target.log_text()
