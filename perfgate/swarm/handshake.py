"""The version check that a Locust worker and its master make when the worker joins.

Locust's own join (`client_ready`, acknowledged with `ack`) only logs a warning when
the two Locust versions differ (Locust 2.47), and it checks nothing of perfgate. So
right after that join the worker sends `perfgate_hello` with its perfgate, Locust and
wire-format versions, and the master compares them with its own and replies with
`perfgate_verdict`. All three must be equal, because perfgate's reports and open-model
plans, and Locust's messages, are only tested between identical versions, and a mixed
swarm could merge reports that one side reads wrongly.

On a mismatch both sides fail with `VersionMismatchError` (exit code 2), and both
messages name the two sets of versions and how to fix them. The master counts a worker
as joined only once the worker has passed the check.
"""

from __future__ import annotations

import logging
from typing import Any

import msgspec

from perfgate.errors import VersionMismatchError
from perfgate.swarm.wire import WIRE_VERSION

logger = logging.getLogger(__name__)

HELLO_MESSAGE = "perfgate_hello"
VERDICT_MESSAGE = "perfgate_verdict"
# The master replies from its message loop within milliseconds, so a master that sends
# no verdict at all most likely runs an older perfgate that lacks the check.
VERDICT_TIMEOUT_S = 10.0


class Versions(msgspec.Struct, frozen=True):
    """The versions that must be equal on every process of a swarm."""

    perfgate: str
    locust: str
    wire: int

    def describe(self) -> str:
        """Return the versions as they appear in messages."""
        return f"perfgate {self.perfgate}, Locust {self.locust}, wire format {self.wire}"


class Verdict(msgspec.Struct, frozen=True):
    """The master's reply to a worker's hello.

    Attributes:
        accepted: whether the worker may take part in runs.
        master: the master's versions.
        reason: why the worker was rejected; empty when accepted.
    """

    accepted: bool
    master: Versions
    reason: str = ""


def local_versions() -> Versions:
    """Return this process's versions, read when called so that tests can replace them."""
    import locust

    import perfgate

    return Versions(perfgate=perfgate.__version__, locust=locust.__version__, wire=WIRE_VERSION)


def version_mismatch(worker: Versions, master: Versions) -> str | None:
    """Describe how the worker's versions differ from the master's; None when they are equal."""
    if worker == master:
        return None
    return (
        f"the worker runs {worker.describe()} but the master runs {master.describe()}; "
        "install the same perfgate and Locust versions on every machine of the swarm "
        f"(perfgate {master.perfgate} and Locust {master.locust} to match this master)"
    )


class MasterVersionCheck:
    """The master's side: reply to every worker's hello and remember which workers passed."""

    def __init__(self, runner: Any, versions: Versions) -> None:
        self._runner = runner
        self._versions = versions
        self._accepted: set[str] = set()
        self._rejected: dict[str, str] = {}
        runner.register_message(HELLO_MESSAGE, self._on_hello)

    def _on_hello(self, environment: Any, msg: Any, **_kwargs: Any) -> None:
        worker_id = str(msg.node_id)
        try:
            worker_versions = msgspec.convert(msg.data, Versions)
        except msgspec.ValidationError as exc:
            reason: str | None = (
                f"the worker sent a version check this master cannot read ({exc}); "
                "install the same perfgate and Locust versions on every machine of the swarm"
            )
        else:
            reason = version_mismatch(worker_versions, self._versions)

        if reason is None:
            self._accepted.add(worker_id)
            logger.info("worker %s passed the version check", worker_id)
        else:
            # NOTE: a worker that joins after the run started may receive users from Locust
            # before this rejection reaches it, and send a report before it quits.
            self._rejected[worker_id] = reason
            logger.error("rejected worker %s: %s", worker_id, reason)
        verdict = Verdict(accepted=reason is None, master=self._versions, reason=reason or "")
        self._runner.send_message(VERDICT_MESSAGE, msgspec.to_builtins(verdict), worker_id)

    def joined_workers(self) -> set[str]:
        """Return the ids of the connected workers that passed the check."""
        clients = self._runner.clients
        connected = [*clients.ready, *clients.spawning, *clients.running]
        return {node.id for node in connected if node.id in self._accepted}

    def raise_if_rejected(self) -> None:
        """Raise for the first worker rejected so far.

        Raises:
            VersionMismatchError: a worker failed the check; the message names its id.
        """
        if not self._rejected:
            return
        worker_id, reason = next(iter(self._rejected.items()))
        msg = f"version mismatch with worker {worker_id}: {reason}"
        raise VersionMismatchError(msg)


class WorkerVersionCheck:
    """The worker's side: send the hello and wait for the master's verdict."""

    def __init__(self, runner: Any, versions: Versions) -> None:
        from gevent.event import AsyncResult

        self._runner = runner
        self._versions = versions
        self._verdict: AsyncResult = AsyncResult()
        runner.register_message(VERDICT_MESSAGE, self._on_verdict)

    def _on_verdict(self, environment: Any, msg: Any, **_kwargs: Any) -> None:
        try:
            self._verdict.set(msgspec.convert(msg.data, Verdict))
        except msgspec.ValidationError as exc:
            self._verdict.set_exception(
                VersionMismatchError(
                    f"the master sent a version verdict this worker cannot read ({exc}); "
                    "install the same perfgate and Locust versions on every machine of the swarm"
                )
            )

    def verify(self, master_address: str, timeout_s: float = VERDICT_TIMEOUT_S) -> None:
        """Send this worker's versions and return once the master has accepted them.

        Raises:
            VersionMismatchError: the master rejected the versions, sent an unreadable
                verdict, or sent none within `timeout_s`.
        """
        from gevent import Timeout

        self._runner.send_message(HELLO_MESSAGE, msgspec.to_builtins(self._versions))
        try:
            verdict: Verdict = self._verdict.get(timeout=timeout_s)
        except Timeout:
            msg = (
                f"the master at {master_address} sent no answer to the version check within "
                f"{timeout_s:.0f} s, so it probably runs an older perfgate; this worker runs "
                f"{self._versions.describe()}: install the same versions on every machine"
            )
            raise VersionMismatchError(msg) from None
        if not verdict.accepted:
            msg = f"the master at {master_address} rejected this worker: {verdict.reason}"
            raise VersionMismatchError(msg)
        logger.info("the master accepted this worker's versions: %s", self._versions.describe())


def verify_versions_with_master(runner: Any, master_address: str) -> None:
    """Check this worker's versions with its master; on a mismatch, leave the swarm.

    Raises:
        VersionMismatchError: the master rejected this worker or sent no verdict. The
            worker has then sent Locust's quit message to the master and stopped its runner.
    """
    check = WorkerVersionCheck(runner, local_versions())
    try:
        check.verify(master_address)
    except VersionMismatchError:
        # Locust's own quit message makes the master forget this worker at once.
        runner.send_message("quit")
        runner.quit()
        raise
