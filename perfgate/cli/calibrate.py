"""`perfgate calibrate`: how fast one worker can send, and how many workers a rate needs."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from perfgate.cli.app import VerboseOption, app, configure_logging, console


@app.command()
def calibrate(
    rate: Annotated[
        float | None, typer.Option(help="Target arrival rate to size the swarm for, in req/s.")
    ] = None,
    users: Annotated[int, typer.Option(help="Users on the calibration worker.", min=1)] = 32,
    duration: Annotated[float, typer.Option(help="Seconds measured per run.", min=1)] = 5.0,
    repeats: Annotated[int, typer.Option(help="Runs per mode (recording on, off).", min=1)] = 2,
    out: Annotated[Path, typer.Option(help="Folder for the calibration runs.")] = Path(
        "results/calibrate"
    ),
    verbose: VerboseOption = False,
) -> None:
    """Measure one worker's maximum rate against a canned server, with and without recording."""
    from perfgate.calibrate.measure import calibrate as run_calibration

    configure_logging(verbose)
    result = run_calibration(
        users=users,
        duration_s=duration,
        repeats=repeats,
        target_rate_rps=rate,
        out=out,
        on_tick=lambda _tick: None,
    )
    recording = ", ".join(f"{value:,.0f}" for value in result.recording_rps)
    counting = ", ".join(f"{value:,.0f}" for value in result.counting_rps)
    console.print(f"one worker, latency recorded:   {recording} req/s")
    console.print(f"one worker, requests counted:   {counting} req/s")
    console.print(f"max rate per worker (median):   {result.max_rps_per_worker:,.0f} req/s")
    console.print(f"recording overhead:             {result.overhead_ratio:.1%}")
    if result.workers_needed is not None:
        console.print(
            f"workers for {rate:,.0f} req/s:          {result.workers_needed} "
            "(each at 70% of its maximum)"
        )
