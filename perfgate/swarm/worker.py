"""A Locust worker process with perfgate's plugin, local or on another machine."""

from __future__ import annotations

import logging
import signal
from pathlib import Path

logger = logging.getLogger(__name__)


def run_worker(
    master_host: str, master_port: int, locustfile: Path, *, record_latency: bool = True
) -> None:
    """Connect to a Locust master and run its tests until the master sends quit.

    Returns when the master sends quit, or when no heartbeat has come from the master
    for `MASTER_HEARTBEAT_TIMEOUT_S` seconds. With `record_latency` False the worker
    counts requests but records no latency, to measure what recording costs.

    Raises:
        ConfigError: the locustfile cannot be loaded.
        VersionMismatchError: the master runs other perfgate or Locust versions.
    """
    from perfgate.swarm.locust_setup import configure_locust, load_user_classes

    configure_locust()
    import gevent
    from locust import events
    from locust.env import Environment

    from perfgate.swarm.handshake import verify_versions_with_master
    from perfgate.swarm.plugin import install_worker_plugin
    from perfgate.swarm.recorder import WorkerRecorder

    user_classes = load_user_classes(locustfile)
    environment = Environment(user_classes=user_classes, events=events)
    plugin = install_worker_plugin(
        environment, user_classes, WorkerRecorder(record_latency=record_latency)
    )

    logger.info("worker connecting to master %s:%d", master_host, master_port)
    runner = environment.create_worker_runner(master_host, master_port)
    plugin.attach(runner)
    verify_versions_with_master(runner, f"{master_host}:{master_port}")
    # SIGTERM (from `perfgate run` cleaning up, or an orchestrator) quits like the
    # master's quit message: users stop and the last report is sent first.
    gevent.signal_handler(signal.SIGTERM, runner.quit)
    runner.greenlet.join()
    logger.info("worker stopped")
