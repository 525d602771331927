"""`perfgate capacity`: search the highest arrival rate that meets an SLO."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from perfgate.cli.app import VerboseOption, app, configure_logging, console, error_console


@app.command()
def capacity(
    slo: Annotated[
        list[str], typer.Option(help="SLO threshold such as 'p99<50ms'; repeat for more.")
    ],
    max_fail_ratio: Annotated[
        str | None, typer.Option(help="Highest failed share of requests, such as 1%.")
    ] = None,
    host: Annotated[str | None, typer.Option(help="URL of a running service.")] = None,
    locustfile: Annotated[Path | None, typer.Option(help="Locustfile to run.")] = None,
    workers: Annotated[int, typer.Option(help="Local Locust worker processes.", min=1)] = 2,
    start_rate: Annotated[float, typer.Option(help="First arrival rate tried, per second.")] = 50.0,
    max_rate: Annotated[
        float, typer.Option(help="Highest arrival rate tried, per second.")
    ] = 100_000.0,
    step_duration: Annotated[float, typer.Option(help="Measured seconds per step.", min=1)] = 10.0,
    precision: Annotated[
        float, typer.Option(help="Stop when the bracket is this narrow (0.05 is 5%).")
    ] = 0.05,
    max_in_flight: Annotated[
        int | None, typer.Option(help="Flows running at once over all workers.", min=1)
    ] = None,
    out: Annotated[Path, typer.Option(help="Folder for the step runs and capacity.json.")] = Path(
        "results"
    ),
    data_dir: Annotated[Path, typer.Option(help="SQLite shard folder of a started target.")] = Path(
        "data"
    ),
    verbose: VerboseOption = False,
) -> None:
    """Find the highest open-model arrival rate that meets the SLO."""
    from perfgate.capacity.search import CapacityOptions, search_capacity
    from perfgate.swarm.run import RunOptions

    configure_logging(verbose)
    expressions = [*slo]
    if max_fail_ratio is not None:
        expressions.append(f"fail_ratio < {max_fail_ratio}")
    options = CapacityOptions(
        slo=tuple(expressions),
        run=RunOptions(
            host=host,
            locustfile=locustfile,
            workers=workers,
            out=out,
            data_dir=data_dir,
            max_in_flight=max_in_flight,
        ),
        start_rate_rps=start_rate,
        max_rate_rps=max_rate,
        step_duration_s=step_duration,
        precision=precision,
    )
    result, folder = search_capacity(options, lambda _tick: None)
    for step in result.steps:
        mark = "met" if step.met_slo else "missed"
        error_console.print(
            f"{step.phase:>6} {step.rate_rps:>10,.1f}/s  p99 {step.p99_ms:>9.2f} ms  "
            f"dropped {step.dropped_arrivals:>5}  {step.verdict:>7}  {mark}",
            highlight=False,
        )
    if result.max_rate_rps is None:
        console.print(f"capacity: none found ({result.stop_reason})")
    else:
        prefix = "at least " if result.lower_bound else ""
        console.print(
            f"capacity: {prefix}{result.max_rate_rps:,.1f} requests/s ({result.stop_reason})"
        )
    console.print(f"results: {folder / 'capacity.json'}")
    if result.max_rate_rps is None:
        raise typer.Exit(1)
