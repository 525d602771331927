"""perfgate's numbers against servers whose behaviour is known, with two real workers."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hdrh.histogram import HdrHistogram

from perfgate.histograms.histogram import new_histogram
from perfgate.histograms.hlog import read_interval_log

pytestmark = pytest.mark.e2e

SERVER = Path(__file__).resolve().parents[1] / "support" / "known_server.py"
RUN_TIMEOUT_S = 120

CLOSED_LOCUSTFILE = """
from locust import FastHttpUser, constant_throughput, task

class Client(FastHttpUser):
    wait_time = constant_throughput(20)

    @task
    def get(self) -> None:
        self.client.get("/x", name="/x")
"""

OPEN_LOCUSTFILE = """
from locust import FastHttpUser, task

class Client(FastHttpUser):
    @task
    def get(self) -> None:
        self.client.get("/x", name="/x")
"""

StartServer = Callable[..., tuple[str, Callable[[], dict[str, Any]]]]


@pytest.fixture
def start_server(tmp_path: Path) -> Iterator[StartServer]:
    processes: list[subprocess.Popen[bytes]] = []

    def start(*arguments: str) -> tuple[str, Callable[[], dict[str, Any]]]:
        ready = tmp_path / f"server-{len(processes)}.ready"
        record = tmp_path / f"server-{len(processes)}.json"
        process = subprocess.Popen(
            [
                sys.executable,
                str(SERVER),
                "--ready-file",
                str(ready),
                "--record-file",
                str(record),
                *arguments,
            ]
        )
        processes.append(process)
        deadline = time.monotonic() + 30
        while not ready.exists():
            assert process.poll() is None, "the known server exited early"
            assert time.monotonic() < deadline, "the known server did not start"
            time.sleep(0.05)

        def stop() -> dict[str, Any]:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=30)
            result: dict[str, Any] = json.loads(record.read_text())
            return result

        return f"http://{ready.read_text()}", stop

    yield start
    for process in processes:
        if process.poll() is None:
            process.kill()
            process.wait()


def _run(tmp_path: Path, url: str, locustfile_text: str, *load: str) -> Path:
    locustfile = tmp_path / "client.py"
    locustfile.write_text(locustfile_text)
    out = tmp_path / f"results-{time.monotonic_ns()}"
    completed = subprocess.run(
        [sys.executable, "-m", "perfgate", "run", "--host", url, "--locustfile", str(locustfile),
         "--workers", "2", "--out", str(out), *load],
        capture_output=True, text=True, timeout=RUN_TIMEOUT_S, check=False,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stdout + completed.stderr
    (run_dir,) = out.iterdir()
    return run_dir


def _whole_run(run_dir: Path, tag: str) -> HdrHistogram:
    merged = new_histogram()
    for interval in read_interval_log(run_dir / "histograms.hlog"):
        if interval.tag == tag:
            merged.add(interval.histogram)
    return merged


def _server_histogram(record: dict[str, Any]) -> HdrHistogram:
    histogram = new_histogram()
    for value in record["server_times_us"]:
        histogram.record_value(max(value, 1))
    return histogram


def test_seeded_latencies_match_server_record(tmp_path: Path, start_server: StartServer) -> None:
    # Calibration: the same load on an instant server measures the loopback and
    # generator overhead that perfgate adds to what the server did.
    url, stop = start_server()
    calibration = _whole_run(
        _run(tmp_path, url, CLOSED_LOCUSTFILE, "--users", "20", "--duration", "4s"), "GET /x"
    )
    stop()

    url, stop = start_server("--delay-seed", "42")
    run_dir = _run(tmp_path, url, CLOSED_LOCUSTFILE, "--users", "20", "--duration", "6s")
    record = stop()
    measured = _whole_run(run_dir, "GET /x")
    truth = _server_histogram(record)

    # The server also responded to perfgate's reachability probe.
    assert measured.get_total_count() == record["requests"] - 1
    for percentile in (50.0, 99.0, 99.9):
        # Overhead adds to each request, not to a percentile, so bound it by the
        # calibration's p99 (its p99.9 for the p99.9).
        overhead_us = calibration.get_value_at_percentile(max(percentile, 99.0))
        expected_us = truth.get_value_at_percentile(percentile)
        got_us = measured.get_value_at_percentile(percentile)
        detail = f"p{percentile}: server {expected_us}, got {got_us}, overhead {overhead_us}"
        print(f"seeded latencies, {detail} (us)")  # shown by `pytest -rP`
        assert expected_us * 0.999 <= got_us <= expected_us * 1.001 + overhead_us, detail


def test_stall_corrected_p99_matches_analytic_value(
    tmp_path: Path, start_server: StartServer
) -> None:
    rate_rps, stall_s, window_s, lead_in_s = 100, 1.0, 10, 2
    # Stall 4 s into the 10 s window: the 100 requests that arrive during the stall
    # wait uniformly 0..1 s, a tenth of the window's requests, so the corrected p99 is
    # the 90th percentile of that wait: 0.9 s.
    url, stop = start_server(
        "--stall-after", str(rate_rps * (lead_in_s + 4)), "--stall-s", str(stall_s)
    )
    run_dir = _run(
        tmp_path, url, OPEN_LOCUSTFILE,
        "--rate", str(rate_rps), "--duration", f"{window_s}s", "--max-in-flight", "10",
    )  # fmt: skip
    stop()
    record = json.loads((run_dir / "run.json").read_text())
    endpoint = record["endpoints"][0]

    analytic_p99_ms = stall_s * (1 - (window_s * rate_rps * 0.01) / (stall_s * rate_rps)) * 1000
    print(
        f"stall: analytic p99 {analytic_p99_ms:.0f} ms, corrected p99 "
        f"{endpoint['latency_ms']['p99']} ms, uncorrected p99 "
        f"{endpoint['latency_uncorrected_ms']['p99']} ms"
    )  # shown by `pytest -rP`
    assert endpoint["latency_ms"]["p99"] == pytest.approx(analytic_p99_ms, rel=0.10)
    assert endpoint["latency_uncorrected_ms"]["p99"] < analytic_p99_ms / 2
    assert record["generator"]["dropped_arrivals"] == 0


def test_counts_agree_with_server_in_every_output(
    tmp_path: Path, start_server: StartServer
) -> None:
    url, stop = start_server()
    run_dir = _run(tmp_path, url, OPEN_LOCUSTFILE, "--rate", "200", "--duration", "4s")
    served = stop()["requests"] - 1  # minus the reachability probe
    record = json.loads((run_dir / "run.json").read_text())
    timeseries = (run_dir / "timeseries.csv").read_text().splitlines()[1:]

    assert record["generator"]["requests_recorded"] == served
    assert record["generator"]["locust_requests"] == served
    assert sum(int(line.split(",")[3]) for line in timeseries if ",total," in line) == served
    assert _whole_run(run_dir, "GET /x").get_total_count() == served
    assert _whole_run(run_dir, "GET /x#uncorrected").get_total_count() == served
