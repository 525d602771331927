"""The serve lifecycle: configuration checks, ready file, signals and clean shutdown."""

from __future__ import annotations

import asyncio
import dataclasses
import signal
import socket
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from targets.config import TargetConfig
from targets.errors import TargetConfigError
from targets.serve import format_address, run_target, validate_config, write_ready_file
from targets.storage.sqlite import init_shards

if TYPE_CHECKING:
    from tests.targets.conftest import RawClientFactory, StartTarget

READY_TIMEOUT_S = 30.0


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("target", "wsgi", r"unknown target 'wsgi': expected one of asgi, fastapi, raw"),
        ("server", "hypercorn", r"unknown ASGI server 'hypercorn': expected one of granian, uv"),
        ("procs", 0, r"process count must be at least 1, got 0"),
        ("codec", "yaml", r"unknown codec 'yaml': expected one of json, msgspec, orjson"),
        ("loop", "trio", r"unknown event loop 'trio': expected one of asyncio, uvloop"),
        (
            "sqlite_mode",
            "mmap",
            r"unknown SQLite mode 'mmap': expected one of aiosqlite, inline, threads",
        ),
        ("shards", 0, r"shard count must be at least 1, got 0"),
        ("port", 70000, r"port must be in 0\.\.65535, got 70000"),
    ],
    ids=["target", "server", "procs", "codec", "loop", "sqlite-mode", "shards", "port"],
)
def test_invalid_config_rejected(field: str, value: Any, message: str) -> None:
    config = dataclasses.replace(TargetConfig(), **{field: value})
    with pytest.raises(TargetConfigError, match=message):
        validate_config(config)


def test_default_config_valid() -> None:
    validate_config(TargetConfig())


def test_defaults_bind_loopback_with_fastest_choices() -> None:
    config = TargetConfig()
    assert config.host == "127.0.0.1"
    assert (config.codec, config.loop, config.sqlite_mode) == ("orjson", "uvloop", "inline")


@pytest.mark.parametrize(
    ("host", "expected"), [("127.0.0.1", "127.0.0.1:80"), ("::1", "[::1]:80")], ids=["v4", "v6"]
)
def test_format_address(host: str, expected: str) -> None:
    assert format_address(host, 80) == expected


def test_ready_file_replaced_whole(tmp_path: Path) -> None:
    ready_file = tmp_path / "nested" / "ready"
    write_ready_file(ready_file, "127.0.0.1:1")
    write_ready_file(ready_file, "127.0.0.1:2")
    assert ready_file.read_text() == "127.0.0.1:2"
    assert [path.name for path in ready_file.parent.iterdir()] == ["ready"]


def test_ready_file_names_bound_port(start_target: StartTarget) -> None:
    target = start_target()
    assert target.ready_file.read_text() == f"127.0.0.1:{target.port}"
    assert target.port > 0
    assert httpx.get(f"{target.base_url}/healthz", timeout=10).status_code == 200


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_signal_stops_cleanly(
    start_target: StartTarget, raw_client: RawClientFactory, signum: signal.Signals
) -> None:
    target = start_target()
    idle_connection = raw_client(target)
    idle_connection.send(b"GET /json HTTP/1.1\r\nHost: x\r\n\r\n")
    assert [response.status for response in idle_connection.read_responses(1)] == [200]

    target.send_signal(signum)

    assert target.wait() == 0
    assert idle_connection.is_closed_by_server()
    assert not target.ready_file.exists()
    log = target.log_text()
    assert f"received {signum.name}" in log
    assert "target stopped" in log
    assert "Traceback" not in log


def test_serve_rejects_other_shard_count(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    init_shards(data_dir, 4)

    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "perfgate",
            "serve",
            "--port",
            "0",
            "--data-dir",
            str(data_dir),
            "--shards",
            "8",
        ],
        capture_output=True,
        text=True,
        timeout=READY_TIMEOUT_S,
        check=False,
    )

    assert completed.returncode == 2
    assert "does not hold a 8-shard layout" in completed.stderr
    assert "delete the folder" in completed.stderr


async def test_run_target_in_process_until_stopped(tmp_path: Path) -> None:
    ready_file = tmp_path / "ready"
    config = TargetConfig(port=0, data_dir=tmp_path / "data", loop="asyncio", ready_file=ready_file)
    stop = asyncio.Event()
    task = asyncio.create_task(run_target(config, stop))
    try:
        async with asyncio.timeout(READY_TIMEOUT_S):
            while not ready_file.exists():
                assert not task.done(), task
                await asyncio.sleep(0.02)
        address = ready_file.read_text()

        async with httpx.AsyncClient(base_url=f"http://{address}", timeout=10) as client:
            assert (await client.get("/healthz")).status_code == 200
            assert (await client.get("/db")).status_code == 200

        stop.set()
        async with asyncio.timeout(READY_TIMEOUT_S):
            await task
    finally:
        task.cancel()
    assert not ready_file.exists()


async def test_port_in_use_rejected(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        config = TargetConfig(port=port, data_dir=tmp_path / "data", loop="asyncio")

        with pytest.raises(TargetConfigError, match=rf"cannot listen on 127\.0\.0\.1:{port}: "):
            await run_target(config, asyncio.Event())
