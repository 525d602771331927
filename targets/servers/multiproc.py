"""Run one target variant in several processes that share a port through SO_REUSEPORT.

Steps: prepare storage once, so that the processes do not race to create the
shards. Reserve the port, start the processes and wait for each one's own ready
file. Announce the address, then wait for SIGINT, SIGTERM or the exit of any
process. Last, stop every process with SIGTERM and, past a bounded wait, SIGKILL.

The parent reserves the port with a socket bound with SO_REUSEPORT that never
listens: port 0 becomes a concrete port that every process can bind, the kernel
balances connections over the listening processes only, and no other program can
take the port meanwhile.
"""

from __future__ import annotations

import dataclasses
import logging
import multiprocessing
import multiprocessing.connection
import signal
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any

from targets.config import TargetConfig
from targets.errors import TargetError
from targets.servers.asgi_hosts import bind_socket

logger = logging.getLogger(__name__)

READY_TIMEOUT_S = 60.0
"""How long the processes may take, together, to open storage and start listening."""

STOP_TIMEOUT_S = 15.0
"""How long the processes get to stop after SIGTERM before they are killed."""

_POLL_INTERVAL_S = 0.05
_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)

# `spawn`, not `fork`: a child must not inherit the parent's loop, threads or sockets.
_context = multiprocessing.get_context("spawn")


def serve_processes(
    config: TargetConfig,
    prepare: Callable[[TargetConfig], None],
    announce: Callable[[TargetConfig, str, int], None],
) -> None:
    """Serve `config` in `config.procs` processes until SIGINT or SIGTERM, then stop all.

    Args:
        config: the variant to serve; `procs` processes each serve it on one port.
        prepare: creates storage once, before the processes start.
        announce: writes the ready file and logs the address once all are ready.

    Raises:
        TargetError: a process exited before it was ready or while serving, or not
            all were ready in `READY_TIMEOUT_S`.
        OSError: the address cannot be bound.
    """
    prepare(config)
    reservation = bind_socket(config.host, config.port, reuse_port=True)
    try:
        host, port = (str(part) for part in reservation.getsockname()[:2])
        with tempfile.TemporaryDirectory(prefix="perfgate-procs-") as ready_dir:
            children = _start_children(config, int(port), Path(ready_dir))
            try:
                _wait_until_ready(children)
                announce(config, host, int(port))
                dead = _wait_for_stop(children)
            finally:
                _stop_children(children)
    finally:
        reservation.close()
        # The ready file must never name a port that no process listens on.
        if config.ready_file is not None:
            config.ready_file.unlink(missing_ok=True)
    logger.info("all %d target processes stopped", config.procs)
    if dead is not None:
        raise TargetError(
            f"target process {dead.name} exited with code {dead.exitcode} while serving; "
            f"see its log above"
        )


@dataclasses.dataclass
class _Child:
    process: multiprocessing.process.BaseProcess
    ready_file: Path


def _start_children(config: TargetConfig, port: int, ready_dir: Path) -> list[_Child]:
    log_level = logging.getLogger().getEffectiveLevel()
    children: list[_Child] = []
    for index in range(config.procs):
        ready_file = ready_dir / f"process-{index}"
        child_config = dataclasses.replace(
            config, port=port, procs=1, reuse_port=True, ready_file=ready_file
        )
        process = _context.Process(
            target=_serve_child,
            args=(child_config, log_level),
            name=f"perfgate-target-{index}",
        )
        process.start()
        children.append(_Child(process, ready_file))
    logger.info("started %d target processes on port %d", len(children), port)
    return children


def _serve_child(config: TargetConfig, log_level: int) -> None:
    """Serve `config` in this child process; the entry point of every child."""
    from targets.serve import serve

    logging.basicConfig(
        level=log_level, format="%(asctime)s %(levelname)s %(processName)s %(name)s: %(message)s"
    )
    serve(config)


def _wait_until_ready(children: list[_Child]) -> None:
    deadline_s = time.monotonic() + READY_TIMEOUT_S
    waiting = list(children)
    while waiting:
        waiting = [child for child in waiting if not child.ready_file.exists()]
        for child in waiting:
            if child.process.exitcode is not None:
                raise TargetError(
                    f"target process {child.process.name} exited with code "
                    f"{child.process.exitcode} before it was ready; see its log above"
                )
        if waiting and time.monotonic() > deadline_s:
            raise TargetError(
                f"{len(waiting)} of {len(children)} target processes were not ready within "
                f"{READY_TIMEOUT_S} s; see their log above"
            )
        if waiting:
            time.sleep(_POLL_INTERVAL_S)


def _wait_for_stop(children: list[_Child]) -> multiprocessing.process.BaseProcess | None:
    """Block until SIGINT or SIGTERM arrives or a child exits; return that child, if any."""
    received: list[int] = []

    def request_stop(signum: int, frame: FrameType | None) -> None:
        received.append(signum)

    previous: dict[signal.Signals, Any] = {
        signum: signal.signal(signum, request_stop) for signum in _STOP_SIGNALS
    }
    try:
        sentinels = [child.process.sentinel for child in children]
        while not received:
            exited = multiprocessing.connection.wait(sentinels, timeout=_POLL_INTERVAL_S * 4)
            if exited:
                dead = next(child.process for child in children if child.process.sentinel in exited)
                # The sentinel is ready when the child's pipe closes, which can come a
                # moment before its exit status.
                dead.join(STOP_TIMEOUT_S)
                logger.error(
                    "target process %s exited with code %s; stopping the others",
                    dead.name,
                    dead.exitcode,
                )
                return dead
        signal_name = signal.Signals(received[0]).name
        logger.info("received %s; stopping %d processes", signal_name, len(children))
        return None
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _stop_children(children: list[_Child]) -> None:
    """SIGTERM every live child, wait until `STOP_TIMEOUT_S`, then SIGKILL the rest."""
    for child in children:
        if child.process.exitcode is None:
            child.process.terminate()

    deadline_s = time.monotonic() + STOP_TIMEOUT_S
    for child in children:
        child.process.join(max(0.0, deadline_s - time.monotonic()))

    for child in children:
        if child.process.exitcode is None:
            logger.warning(
                "target process %s still running %.0f s after SIGTERM; killing it",
                child.process.name,
                STOP_TIMEOUT_S,
            )
            child.process.kill()
            child.process.join(STOP_TIMEOUT_S)
