"""Validate the regression gate on this machine's real noise.

Two steps:

    # 1. Record noise: run the unchanged suite several times, then reduce the runs.
    for i in $(seq 14); do perfgate bench --out results/noise; done
    python microbench/validate_gate.py record results/noise/*.json \
        --out tests/gate/fixtures/microbench-noise.json.gz

    # 2. Simulate A/A pairs and injected slowdowns with the gate's default settings.
    python microbench/validate_gate.py simulate tests/gate/fixtures/microbench-noise.json.gz

    # Noise of an A/B job (pass its files in the order base-r1 candidate-r1 base-r2 ...)
    # is simulated with --interleaved, which keeps each base and candidate run together.

    # The same on log-normal noise of a chosen size (here 1% between runs), to see what
    # the gate catches on a quiet machine.
    python microbench/validate_gate.py simulate --synthetic-spread 0.01

For each method and repeat count, the simulation prints the share of A/A trials
where the gate called any change (false alarms per suite run), with its 95% Wilson
interval. Beside it is the share of trials where the gate caught one benchmark
slowed by each factor. See perfgate.gate.validation for how a trial is built.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
from pathlib import Path

from perfgate.gate.validation import (
    detection_rate,
    false_alarm_rate,
    read_noise,
    record_noise,
    synthetic_noise,
    write_noise,
)
from perfgate.gate.verdicts import GateSettings

SLOWDOWNS = (1.05, 1.10, 1.25, 1.5, 2.0, 3.0, 5.0, 10.0)
RELIABLE_DETECTION = 0.95


def _record(arguments: argparse.Namespace) -> None:
    description = {
        "recorded_at": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, {platform.platform()}",
        "python": platform.python_version(),
        "command": arguments.command,
    }
    record = record_noise(arguments.files, description)
    write_noise(record, arguments.out)
    print(
        f"recorded {record.runs} runs of {len(record.benchmarks)} benchmarks into {arguments.out}"
    )


def _simulate(arguments: argparse.Namespace) -> None:
    if arguments.synthetic_spread is not None:
        runs = 2 * max(arguments.repeats) + 4
        noise = synthetic_noise(30, runs, arguments.synthetic_spread, batch_spread=0.02)
    elif arguments.noise is not None:
        noise = read_noise(arguments.noise)
    else:
        raise SystemExit("pass a noise file or --synthetic-spread")
    print(
        f"noise: {noise.runs} runs of {len(noise.benchmarks)} benchmarks; {dict(noise.description)}"
    )
    print(f"{arguments.trials} trials each; false alarm = any change called in an A/A pair\n")
    header = "method          repeats  false alarms        " + "  ".join(
        f"x{s:<5g}" for s in SLOWDOWNS
    )
    print(header + "  smallest caught >= 95%")
    for method in arguments.methods:
        for repeats in arguments.repeats:
            if noise.runs < 2 * repeats or (method in ("welch", "paired") and repeats < 2):
                continue  # these methods need two repeats a side
            settings = GateSettings(method=method)
            alarms = false_alarm_rate(
                noise, settings, repeats, arguments.trials, interleaved=arguments.interleaved
            )
            low, high = alarms.wilson_interval()
            rates = [
                detection_rate(
                    noise,
                    settings,
                    repeats,
                    slowdown,
                    trials=arguments.trials,
                    interleaved=arguments.interleaved,
                ).rate
                for slowdown in SLOWDOWNS
            ]
            reliable = next(
                (
                    f"x{s:g}"
                    for s, rate in zip(SLOWDOWNS, rates, strict=True)
                    if rate >= RELIABLE_DETECTION
                ),
                f"above x{SLOWDOWNS[-1]:g}",
            )
            print(
                f"{method:<15} {repeats:>7}  {alarms.rate:6.1%} [{low:.1%}, {high:.1%}]  "
                + "  ".join(f"{rate:6.1%}" for rate in rates)
                + f"  {reliable}"
            )


def main() -> None:
    """Parse the command line and run `record` or `simulate`."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True)
    record = commands.add_parser(
        "record", help="reduce pytest-benchmark files of one code version to a noise file"
    )
    record.add_argument("files", nargs="+", type=Path)
    record.add_argument("--out", type=Path, required=True)
    record.add_argument(
        "--command", default="perfgate bench", help="the command that measured the runs"
    )
    record.set_defaults(handler=_record)
    simulate = commands.add_parser(
        "simulate", help="measure false alarms and detection on a noise file"
    )
    simulate.add_argument("noise", type=Path, nargs="?")
    simulate.add_argument(
        "--synthetic-spread",
        type=float,
        help="simulate log-normal noise with this sigma between runs instead of a noise file",
    )
    simulate.add_argument("--trials", type=int, default=400)
    simulate.add_argument(
        "--interleaved",
        action="store_true",
        help="pair runs 2k and 2k+1 of the record, as perfgate bench --ab measures them",
    )
    simulate.add_argument(
        "--methods", nargs="+", default=["welch", "paired", "bootstrap", "hodges-lehmann"]
    )
    simulate.add_argument("--repeats", nargs="+", type=int, default=[1, 3, 5])
    simulate.set_defaults(handler=_simulate)
    arguments = parser.parse_args()
    arguments.handler(arguments)


if __name__ == "__main__":
    main()
