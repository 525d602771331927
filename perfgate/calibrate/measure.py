"""`perfgate calibrate`: one worker's maximum request rate and what recording costs.

One worker runs as many users as it can drive, with no wait between requests,
against the canned-response server (perfgate.calibrate.canned_server), so the
worker, not the server, limits the rate. Runs with latency recording on and off
alternate, so both modes see the same machine. The medians of the two modes give
the plugin's overhead as a ratio measured in one job.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import math
import statistics
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

from perfgate.swarm.master import Tick
from perfgate.swarm.processes import start_child, wait_for_ready_file, wait_until_healthy
from perfgate.swarm.run import RunOptions, execute_run

logger = logging.getLogger(__name__)

# Workers are sized to run at this fraction of their maximum, well below the CPU
# level at which perfgate calls a generator saturated.
WORKER_HEADROOM = 0.7

LOCUSTFILE = '''
from locust import FastHttpUser, constant, task


class CalibrationUser(FastHttpUser):
    """Send requests back to back: the worker's CPU is the only limit."""

    wait_time = constant(0)

    @task
    def get(self) -> None:
        self.client.get("/", name="/")
'''


@dataclasses.dataclass(frozen=True)
class CalibrationResult:
    """Requests per second of one worker, with and without latency recording."""

    recording_rps: list[float]
    counting_rps: list[float]
    target_rate_rps: float | None

    @property
    def max_rps_per_worker(self) -> float:
        """Median rate of one worker with perfgate's recording on."""
        return statistics.median(self.recording_rps)

    @property
    def overhead_ratio(self) -> float:
        """Rate lost to latency recording: 1 - recording / counting (0.05 is 5%)."""
        return 1.0 - self.max_rps_per_worker / statistics.median(self.counting_rps)

    @property
    def workers_needed(self) -> int | None:
        """Workers for `target_rate_rps` at 70% of each worker's maximum rate."""
        if self.target_rate_rps is None:
            return None
        return max(1, math.ceil(self.target_rate_rps / (self.max_rps_per_worker * WORKER_HEADROOM)))


@contextlib.contextmanager
def _canned_server(folder: Path) -> Iterator[str]:
    ready = folder / "canned.ready"
    command = [sys.executable, "-m", "perfgate.calibrate.canned_server", "--ready-file", str(ready)]
    child = start_child("canned server", command, folder / "canned.log")
    try:
        url = f"http://{wait_for_ready_file(child, ready)}"
        wait_until_healthy(url + "/", child)
        yield url
    finally:
        child.stop()


def calibrate(
    *,
    users: int,
    duration_s: float,
    repeats: int,
    target_rate_rps: float | None,
    out: Path,
    on_tick: Callable[[Tick], None],
) -> CalibrationResult:
    """Measure one worker's rate with recording on and off, `repeats` times each."""
    out.mkdir(parents=True, exist_ok=True)
    recording: list[float] = []
    counting: list[float] = []
    with tempfile.TemporaryDirectory(dir=out) as scratch, _canned_server(Path(scratch)) as url:
        locustfile = Path(scratch) / "calibration.py"
        locustfile.write_text(LOCUSTFILE, encoding="utf-8")
        for _ in range(repeats):
            for record_latency, rates in ((True, recording), (False, counting)):
                options = RunOptions(
                    host=url,
                    locustfile=locustfile,
                    workers=1,
                    users=users,
                    spawn_rate=float(users),
                    duration_s=duration_s,
                    out=out,
                    worker_arguments=() if record_latency else ("--no-latency",),
                )
                outcome = execute_run(options, on_tick)
                rate = outcome.record.total.rps
                logger.info(
                    "calibration run %s: %.0f req/s (recording %s)",
                    outcome.run_dir,
                    rate,
                    record_latency,
                )
                rates.append(rate)
    return CalibrationResult(recording, counting, target_rate_rps)
