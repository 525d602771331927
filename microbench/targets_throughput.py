"""Requests per second of each server variant, as a ratio to a canned-response ceiling.

Each variant runs pinned to CPU 0 with `taskset`, and wrk (one thread, installed with
apt-get when missing) loads it from CPU 1, on loopback only. The ceiling is
`perfgate.calibrate.canned_server` on uvloop on the same core, up for the whole run.
Each endpoint is measured in `--rounds` short rounds, each a wrk run of `--duration`
seconds on the canned server and then one on the endpoint. The ratio reported is the
median of the rounds' ratios, so that load from other programs on the machine, which
drifts over seconds, falls on both sides of each ratio alike. Every server is stopped
by SIGTERM when its endpoints are done, or when this script gets SIGTERM or SIGINT.

Usage:
    .venv/bin/python microbench/targets_throughput.py [--duration 2] [--rounds 5]
        [--variants raw,...] [--profile raw:/db] [--nice -10] [--out FILE]

Each endpoint row also gives the server's CPU time per request served (user plus
system, from /proc/PID/stat in clock ticks, 10 ms each on most Linux systems), the
median of the rounds. It counts only the time the server process itself ran, so
other programs on the machine move it less than the ratio, though they still share
its caches and core.

`--profile VARIANT:ENDPOINT` also records the server with py-spy during one more wrk
run of that endpoint and prints the functions where the samples fall.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import dataclasses
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

SCHEMA = "perfgate.targets-throughput/1"
SERVER_CPU = "0"
LOAD_CPU = "1"

# Prefix of every command this script starts; `--nice` adds a `nice -n N` to it.
_launch_prefix: list[str] = []
WRK_CONNECTIONS = 64
READY_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 15.0

VARIANTS: dict[str, tuple[str, ...]] = {
    "raw": ("--target", "raw"),
    # The raw server without per-request Prometheus recording or queue consumers.
    "raw-bare": ("--target", "raw", "--no-metrics", "--consumers", "0"),
    # Each of the two costs alone: the raw server without one of them.
    "raw-no-metrics": ("--target", "raw", "--no-metrics"),
    "raw-no-consumers": ("--target", "raw", "--consumers", "0"),
    "asgi-uvicorn": ("--target", "asgi", "--server", "uvicorn"),
    "asgi-granian": ("--target", "asgi", "--server", "granian"),
    "fastapi-uvicorn": ("--target", "fastapi", "--server", "uvicorn"),
    "fastapi-granian": ("--target", "fastapi", "--server", "granian"),
}

POST_USERS_SCRIPT = """
wrk.method = "POST"
wrk.body = '{"name":"bench","region":"eu"}'
wrk.headers["Content-Type"] = "application/json"
"""


@dataclasses.dataclass(frozen=True)
class Endpoint:
    """One request that wrk repeats: a label, its path and an optional wrk Lua script."""

    label: str
    path: str
    script: str = ""


ENDPOINTS = [
    Endpoint("GET /json", "/json"),
    Endpoint("GET /plaintext", "/plaintext"),
    Endpoint("GET /db", "/db"),
    Endpoint("GET /queries?queries=20", "/queries?queries=20"),
    Endpoint("GET /fortunes", "/fortunes"),
    Endpoint("POST /users", "/users", POST_USERS_SCRIPT),
    Endpoint("GET /users?region=", "/users?region=eu&limit=10"),
]

GOALS = {("raw", "GET /json"): 0.70, ("raw", "GET /plaintext"): 0.70, ("raw", "GET /db"): 0.40}


@dataclasses.dataclass(frozen=True)
class WrkResult:
    """Summary of one wrk run."""

    rate_rps: float
    requests: int
    non_2xx: int
    socket_errors: int


def ensure_wrk() -> str:
    """Return wrk's path, installing it with apt-get first when it is missing."""
    path = shutil.which("wrk")
    if path is not None:
        return path
    print("wrk not found; installing it with apt-get", file=sys.stderr)
    subprocess.run(["apt-get", "update"], check=True)
    subprocess.run(["apt-get", "install", "-y", "wrk"], check=True)
    path = shutil.which("wrk")
    if path is None:
        raise SystemExit("apt-get installed wrk, but it is not on PATH")
    return path


def free_port() -> int:
    """Pick a free loopback port; the canned server binds it right after."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline_s = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline_s:
        if process.poll() is not None:
            raise SystemExit(f"server exited with {process.returncode} before listening")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
            return
        time.sleep(0.05)
    raise SystemExit(f"nothing listened on port {port} within {READY_TIMEOUT_S} s")


def stop(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(STOP_TIMEOUT_S)


@contextlib.contextmanager
def canned_server() -> Iterator[int]:
    """Run the canned-response server on uvloop on the server CPU; yield its port."""
    port = free_port()
    code = (
        "import uvloop\n"
        "from perfgate.calibrate.canned_server import serve_canned\n"
        f"uvloop.run(serve_canned('127.0.0.1', {port}))\n"
    )
    command = [*_launch_prefix, "taskset", "-c", SERVER_CPU, sys.executable, "-c", code]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_port(port, process)
        yield port
    finally:
        stop(process)


@contextlib.contextmanager
def target_server(options: tuple[str, ...], work_dir: Path) -> Iterator[tuple[int, int]]:
    """Run `perfgate serve` with `options` on the server CPU; yield its port and pid."""
    ready_file = work_dir / "ready"
    ready_file.unlink(missing_ok=True)
    command = [
        *_launch_prefix, "taskset", "-c", SERVER_CPU, sys.executable, "-m", "perfgate", "serve",
        "--port", "0", "--ready-file", str(ready_file), "--data-dir", str(work_dir / "data"),
        *options,
    ]  # fmt: skip
    log = (work_dir / "serve.log").open("wb")
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline_s = time.monotonic() + READY_TIMEOUT_S
        while not ready_file.exists():
            if process.poll() is not None or time.monotonic() > deadline_s:
                raise SystemExit(
                    f"perfgate serve {' '.join(options)} did not start; see {log.name}"
                )
            time.sleep(0.05)
        port = int(ready_file.read_text().rpartition(":")[2])
        yield port, process.pid
    finally:
        stop(process)
        log.close()


def run_wrk(
    wrk: str, port: int, endpoint: Endpoint, duration_s: float, work_dir: Path
) -> WrkResult:
    """Run wrk from the load CPU against one endpoint for `duration_s` and parse its summary."""
    command = [
        *_launch_prefix, "taskset", "-c", LOAD_CPU, wrk, "-t1", f"-c{WRK_CONNECTIONS}",
        f"-d{duration_s:g}s",
        "--timeout", "5s", f"http://127.0.0.1:{port}{endpoint.path}",
    ]  # fmt: skip
    if endpoint.script:
        script = work_dir / "request.lua"
        script.write_text(endpoint.script)
        command[-1:-1] = ["-s", str(script)]
    output = subprocess.run(
        command, check=True, capture_output=True, text=True, timeout=duration_s + 30
    ).stdout
    rate = re.search(r"Requests/sec:\s+([0-9.]+)", output)
    requests = re.search(r"(\d+) requests in", output)
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    if rate is None or requests is None:
        raise SystemExit(f"cannot parse wrk output:\n{output}")
    return WrkResult(
        rate_rps=float(rate.group(1)),
        requests=int(requests.group(1)),
        non_2xx=int(non_2xx.group(1)) if non_2xx else 0,
        socket_errors=sum(int(value) for value in errors.groups()) if errors else 0,
    )


def process_cpu_s(pid: int) -> float:
    """Return the CPU time, user plus system, that process `pid` has used so far."""
    # Fields 14 and 15 of /proc/PID/stat, counted after the command name in brackets.
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def endpoint_routed(port: int, endpoint: Endpoint) -> bool:
    """Tell whether the target routes `endpoint`, from one request."""
    import httpx

    method = "POST" if endpoint.script else "GET"
    body = b'{"name":"probe","region":"eu"}' if endpoint.script else None
    response = httpx.request(method, f"http://127.0.0.1:{port}{endpoint.path}", content=body,
                             headers={"content-type": "application/json"}, timeout=10)  # fmt: skip
    return response.status_code not in (404, 405)


def profile(
    pid: int, wrk: str, port: int, endpoint: Endpoint, *, duration_s: float, work_dir: Path
) -> None:
    """Sample the server with py-spy during one wrk run; print the hottest functions."""
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    raw = work_dir / "profile.txt"
    recorder = subprocess.Popen(
        [py_spy, "record", "--pid", str(pid), "--duration", f"{duration_s:.0f}",
         "--rate", "200", "--format", "raw", "--output", str(raw), "--nonblocking"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    run_wrk(wrk, port, endpoint, duration_s, work_dir)
    recorder.wait(duration_s + 30)
    self_samples: collections.Counter[str] = collections.Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, samples = line.rpartition(" ")
        # Only the event loop's thread serves requests; the others wait on queues.
        if "asyncio/runners.py" not in stack:
            continue
        total += int(samples)
        self_samples[stack.split(";")[-1]] += int(samples)
    print(f"\npy-spy: {total} event loop samples of pid {pid} during {endpoint.label}:")
    for frame, count in self_samples.most_common(15):
        print(f"  {100 * count / max(total, 1):5.1f}%  {frame}")


def measure_rounds(
    wrk: str,
    ceiling: tuple[int, Endpoint],
    target: tuple[int, int, Endpoint],
    *,
    rounds: int,
    duration_s: float,
    work_dir: Path,
) -> tuple[list[WrkResult], list[WrkResult], list[float]]:
    """Run `rounds` rounds of wrk on the canned server, then on the target's endpoint.

    Returns the canned runs, the target's runs and the target's CPU microseconds per
    request in each round.
    """
    canned_port, canned = ceiling
    port, pid, endpoint = target
    ceilings, results, cpu_us = [], [], []
    for _ in range(rounds):
        ceilings.append(run_wrk(wrk, canned_port, canned, duration_s, work_dir))
        cpu_before_s = process_cpu_s(pid)
        results.append(run_wrk(wrk, port, endpoint, duration_s, work_dir))
        cpu_s = process_cpu_s(pid) - cpu_before_s
        cpu_us.append(1e6 * cpu_s / max(results[-1].requests, 1))
    return ceilings, results, cpu_us


def machine() -> dict[str, object]:
    model = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return {
        "cpus": os.cpu_count(),
        "cpu_model": model,
        "platform": platform.platform(),
        "python": platform.python_version(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=2.0, help="seconds of each wrk run")
    parser.add_argument("--rounds", type=int, default=5, help="canned-then-endpoint rounds")
    parser.add_argument("--warm-up", type=float, default=2.0, help="seconds before each run")
    parser.add_argument("--variants", default=",".join(VARIANTS), help="comma-separated names")
    parser.add_argument(
        "--endpoints",
        default="",
        help="comma-separated paths to measure, such as /json,/db; every endpoint by default",
    )
    parser.add_argument("--profile", action="append", default=[], help="VARIANT:ENDPOINT")
    parser.add_argument("--out", type=Path, default=Path("results/bench/targets-throughput.json"))
    parser.add_argument(
        "--nice",
        type=int,
        default=0,
        help="niceness of the servers and wrk; a negative value (as root) keeps other "
        "programs on the machine from taking their CPU time",
    )
    args = parser.parse_args()
    if args.nice:
        _launch_prefix[:] = ["nice", "-n", str(args.nice)]
    if (os.cpu_count() or 1) < 2:
        raise SystemExit("needs 2 CPUs: one for the server, one for wrk")
    wrk = ensure_wrk()
    # Run the `finally` blocks that stop the servers on SIGTERM, and on SIGINT even when
    # started in the background, where the shell makes SIGINT ignored.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    signal.signal(signal.SIGINT, signal.default_int_handler)
    started_at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())

    rows: list[dict[str, object]] = []
    canned = Endpoint("canned", "/json")
    with (
        tempfile.TemporaryDirectory(prefix="perfgate-throughput-") as temporary,
        canned_server() as canned_port,
    ):
        work_dir = Path(temporary)
        run_wrk(wrk, canned_port, canned, args.warm_up, work_dir)
        for name in args.variants.split(","):
            with target_server(VARIANTS[name], work_dir) as (port, pid):
                for endpoint in ENDPOINTS:
                    path = endpoint.path.split("?")[0]
                    if args.endpoints and path not in args.endpoints.split(","):
                        continue
                    if not endpoint_routed(port, endpoint):
                        continue
                    run_wrk(wrk, port, endpoint, args.warm_up, work_dir)
                    ceilings, results, cpu_us = measure_rounds(
                        wrk, (canned_port, canned), (port, pid, endpoint),
                        rounds=args.rounds, duration_s=args.duration, work_dir=work_dir,
                    )  # fmt: skip
                    ratios = [
                        r.rate_rps / c.rate_rps for r, c in zip(results, ceilings, strict=True)
                    ]
                    ratio = statistics.median(ratios)
                    rate_rps = statistics.median(result.rate_rps for result in results)
                    ceiling_rps = statistics.median(ceiling.rate_rps for ceiling in ceilings)
                    cpu_us_per_request = statistics.median(cpu_us)
                    non_2xx = sum(result.non_2xx for result in results)
                    socket_errors = sum(result.socket_errors for result in results)
                    goal = GOALS.get((name, endpoint.label))
                    rows.append({
                        "variant": name, "endpoint": endpoint.label,
                        "rate_rps": rate_rps, "ceiling_rps": ceiling_rps,
                        "ratio": round(ratio, 3), "ratios": [round(r, 3) for r in ratios],
                        "cpu_us_per_request": round(cpu_us_per_request, 2),
                        "requests": sum(result.requests for result in results),
                        "non_2xx": non_2xx, "socket_errors": socket_errors,
                        "goal": goal, "goal_met": None if goal is None else ratio >= goal,
                    })  # fmt: skip
                    print(
                        f"{name:16s} {endpoint.label:26s} {rate_rps:9,.0f} requests/s"
                        f"  ceiling {ceiling_rps:9,.0f}  ratio {ratio:.2f}"
                        f" (rounds {min(ratios):.2f}..{max(ratios):.2f})"
                        f"  server CPU {cpu_us_per_request:.1f} us/request"
                        f"  non-2xx {non_2xx}  socket errors {socket_errors}",
                        flush=True,
                    )
                    if f"{name}:{path}" in args.profile:
                        profile(pid, wrk, port, endpoint, duration_s=args.duration,
                                work_dir=work_dir)  # fmt: skip

    report = {
        "schema": SCHEMA,
        "started_at": started_at,
        "command": " ".join([Path(sys.argv[0]).as_posix(), *sys.argv[1:]]),
        "machine": machine(),
        "nice": args.nice,
        "wrk": {
            "threads": 1,
            "connections": WRK_CONNECTIONS,
            "duration_s": args.duration,
            "rounds": args.rounds,
        },
        "rows": rows,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2))
    print_markdown(rows)
    print(f"\nwrote {args.out}")


def print_markdown(rows: list[dict[str, object]]) -> None:
    """Print requests/s and, in brackets, the ratio to the adjacent ceiling."""
    variants = list(dict.fromkeys(str(row["variant"]) for row in rows))
    ceilings = [float(str(row["ceiling_rps"])) for row in rows]
    print(f"\nceiling (canned, uvloop): {min(ceilings):,.0f} to {max(ceilings):,.0f} requests/s\n")
    print("| endpoint | " + " | ".join(variants) + " |")
    print("|---|" + "---|" * len(variants))
    for label in dict.fromkeys(str(row["endpoint"]) for row in rows):
        cells = []
        for variant in variants:
            match = [row for row in rows if row["variant"] == variant and row["endpoint"] == label]
            if not match:
                cells.append("-")
                continue
            row = match[0]
            cells.append(f"{float(str(row['rate_rps'])):,.0f} ({row['ratio']:.2f})")
        print(f"| {label} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
