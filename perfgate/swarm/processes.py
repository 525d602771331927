"""Child processes that `perfgate run` starts: the target and local Locust workers.

Every child is started with a parent-death signal on Linux, so that even a
`kill -9` of perfgate leaves no orphan behind. The normal path stops them with
SIGTERM, then SIGKILL after a grace period.
"""

from __future__ import annotations

import contextlib
import ctypes
import dataclasses
import logging
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO

from perfgate.errors import SwarmError, TargetUnreachableError

logger = logging.getLogger(__name__)

STOP_GRACE_S = 10.0
WORKER_EXIT_WAIT_S = 5.0
READY_TIMEOUT_S = 120.0
POLL_S = 0.05
PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:  # pragma: no cover - runs in the child before exec
    """Ask Linux to send SIGTERM to this child when its parent exits."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


@dataclasses.dataclass
class ChildProcess:
    """A started child process and the file its output goes to."""

    name: str
    process: subprocess.Popen[bytes]
    log_path: Path
    log_file: IO[bytes]

    def exited(self) -> int | None:
        """Return the exit code if the process has ended, else None."""
        return self.process.poll()

    def log_tail(self, lines: int = 15) -> str:
        """Return the last lines of the child's output, for error messages."""
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def stop(self, exit_wait_s: float = 0.0) -> None:
        """Wait up to `exit_wait_s` for a clean exit, then SIGTERM, then SIGKILL."""
        if exit_wait_s > 0:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=exit_wait_s)
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=STOP_GRACE_S)
            except subprocess.TimeoutExpired:
                logger.warning("%s ignored SIGTERM for %.0f s; killing it", self.name, STOP_GRACE_S)
                self.process.kill()
                self.process.wait()
        self.log_file.close()
        logger.info("%s stopped with exit code %s", self.name, self.process.returncode)


def start_child(name: str, command: Sequence[str], log_path: Path) -> ChildProcess:
    """Start `command` with its output in `log_path`."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    log_file = log_path.open("wb")
    process = subprocess.Popen(  # noqa: S603 - the command is perfgate's own entry point
        list(command),
        stdin=subprocess.DEVNULL,
        stdout=log_file,
        stderr=subprocess.STDOUT,
        preexec_fn=_die_with_parent,  # noqa: PLW1509 - only calls prctl, no locks taken
    )
    logger.info("started %s (pid %d), output in %s", name, process.pid, log_path)
    return ChildProcess(name, process, log_path, log_file)


def perfgate_command(*arguments: str) -> list[str]:
    """Build the command line that runs a perfgate command in a new interpreter."""
    return [sys.executable, "-m", "perfgate", *arguments]


@contextlib.contextmanager
def running_target(
    serve_arguments: Sequence[str], run_dir: Path
) -> Iterator[tuple[str, ChildProcess]]:
    """Start `perfgate serve` on a free loopback port and yield its base URL and process.

    Raises:
        TargetUnreachableError: the target exited or did not become ready in time.
    """
    ready_file = run_dir / "target.ready"
    command = perfgate_command(
        "serve", *serve_arguments, "--port", "0", "--ready-file", str(ready_file)
    )
    child = start_child("target", command, run_dir / "target.log")
    try:
        address = wait_for_ready_file(child, ready_file)
        url = f"http://{address}"
        wait_until_healthy(url + "/healthz", child)
        yield url, child
    finally:
        child.stop()
        ready_file.unlink(missing_ok=True)


def wait_for_ready_file(child: ChildProcess, ready_file: Path) -> str:
    """Wait until `child` writes `host:port` to `ready_file` and return that address.

    Raises:
        TargetUnreachableError: the child exited first, or the wait timed out.
    """
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if child.exited() is not None:
            msg = (
                f"the {child.name} exited with code {child.exited()} before it was ready:\n"
                f"{child.log_tail()}"
            )
            raise TargetUnreachableError(msg)
        if ready_file.is_file():
            address = ready_file.read_text(encoding="ascii").strip()
            if address:
                return address
        time.sleep(POLL_S)
    msg = f"the {child.name} was not ready within {READY_TIMEOUT_S:.0f} s; see {child.log_path}"
    raise TargetUnreachableError(msg)


def wait_until_healthy(
    url: str, child: ChildProcess | None = None, timeout_s: float = 30.0
) -> None:
    """Poll `url` until it responds with 200.

    Raises:
        TargetUnreachableError: no 200 within `timeout_s`, or the child exited.
    """
    deadline = time.monotonic() + timeout_s
    last_error = "no attempt made"
    while time.monotonic() < deadline:
        if child is not None and child.exited() is not None:
            msg = f"the target exited with code {child.exited()}:\n{child.log_tail()}"
            raise TargetUnreachableError(msg)
        try:
            with urllib.request.urlopen(url, timeout=2.0) as response:  # noqa: S310 - http URL built here
                if response.status == 200:
                    return
                last_error = f"HTTP {response.status}"
        except (urllib.error.URLError, OSError) as exc:
            last_error = str(exc)
        time.sleep(POLL_S)
    msg = f"{url} did not answer 200 within {timeout_s:.0f} s (last error: {last_error})"
    raise TargetUnreachableError(msg)


def check_reachable(url: str, timeout_s: float = 5.0) -> None:
    """Check that an HTTP server responds at `url`; any HTTP status counts as a response.

    Raises:
        TargetUnreachableError: the connection failed; the message names the URL.
    """
    try:
        with urllib.request.urlopen(url, timeout=timeout_s):  # noqa: S310 - the user's target URL
            return
    except urllib.error.HTTPError:
        return
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        msg = f"cannot connect to the target at {url!r}: {reason}; start it or fix --host"
        raise TargetUnreachableError(msg) from None


@contextlib.contextmanager
def running_workers(
    count: int,
    master_address: str,
    locustfile: Path,
    run_dir: Path,
    extra_arguments: Sequence[str] = (),
) -> Iterator[list[ChildProcess]]:
    """Start `count` local `perfgate worker` processes; stop them all on exit."""
    children: list[ChildProcess] = []
    try:
        for index in range(count):
            command = perfgate_command(
                "worker", "--master", master_address, "--locustfile", str(locustfile),
                *extra_arguments,
            )  # fmt: skip
            children.append(
                start_child(f"worker-{index}", command, run_dir / f"worker-{index}.log")
            )
        yield children
    finally:
        # Workers exit by themselves once the master has sent quit; give them a moment.
        deadline = time.monotonic() + WORKER_EXIT_WAIT_S
        for child in children:
            child.stop(exit_wait_s=max(deadline - time.monotonic(), 0.0))


def raise_if_exited(children: Sequence[ChildProcess]) -> None:
    """Raise SwarmError naming the first child that has already exited."""
    for child in children:
        code = child.exited()
        if code is not None:
            msg = (
                f"{child.name} exited with code {code} before the run started:\n{child.log_tail()}"
            )
            raise SwarmError(msg)


def free_port(host: str = "127.0.0.1") -> int:
    """Return a TCP port that was free on `host` a moment ago."""
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        port: int = probe.getsockname()[1]
    return port
