"""Import Locust and load locustfiles, with perfgate's settings for its runners.

Importing Locust monkey-patches the standard library for gevent, so perfgate imports
it only in the processes that run a master or a worker, never in `perfgate serve`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from perfgate.errors import ConfigError

WORKER_REPORT_INTERVAL_S = 1.0
CPU_MONITOR_INTERVAL_S = 1.0
MASTER_HEARTBEAT_TIMEOUT_S = 15


def configure_locust() -> None:
    """Import Locust and shorten its report, CPU sampling and heartbeat timeout intervals.

    Workers report every second instead of every 3 s, so the master's view lags by at
    most a second. They sample their CPU use every second instead of every 10 s, so a
    saturated generator shows up inside a short window. A worker whose master has gone
    quits after 15 s instead of 60 s.
    """
    import locust.runners

    locust.runners.WORKER_REPORT_INTERVAL = WORKER_REPORT_INTERVAL_S
    locust.runners.CPU_MONITOR_INTERVAL = CPU_MONITOR_INTERVAL_S
    locust.runners.MASTER_HEARTBEAT_TIMEOUT = MASTER_HEARTBEAT_TIMEOUT_S


def load_user_classes(locustfile: Path) -> list[Any]:
    """Import a locustfile and return its User classes.

    Raises:
        ConfigError: the file is missing, fails to import or defines no User class.
    """
    from locust.util.load_locustfile import load_locustfile

    if not locustfile.is_file():
        msg = (
            f"locustfile {str(locustfile)!r} not found; pass --locustfile with a path to a .py file"
        )
        raise ConfigError(msg)
    try:
        user_classes, _shapes = load_locustfile(str(locustfile))
    except Exception as exc:
        msg = f"locustfile {str(locustfile)!r} failed to import: {type(exc).__name__}: {exc}"
        raise ConfigError(msg) from exc
    if not user_classes:
        msg = (
            f"locustfile {str(locustfile)!r} defines no User class; "
            "add a subclass of HttpUser or FastHttpUser"
        )
        raise ConfigError(msg)
    return list(user_classes.values())
