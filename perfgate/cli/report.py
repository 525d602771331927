"""Commands that read stored results: `report`, `compare` and `history`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from perfgate.cli.app import VerboseOption, app, configure_logging, console, error_console


@app.command()
def report(
    runs: Annotated[
        list[Path],
        typer.Argument(help="Run folders (results/<run-id>); the first is the baseline."),
    ],
    out: Annotated[
        Path | None,
        typer.Option(help="HTML file to write (default: report.html in the run folder)."),
    ] = None,
    verbose: VerboseOption = False,
) -> None:
    """Write a self-contained HTML report with plots of one or more runs."""
    from perfgate.report import write_report

    configure_logging(verbose)
    path = write_report(runs, out)
    console.print(f"report: {path}", highlight=False)


@app.command()
def compare(
    baseline: Annotated[
        Path, typer.Argument(help="Baseline run folder, or a folder of repeated run folders.")
    ],
    candidate: Annotated[
        Path, typer.Argument(help="Candidate run folder, or a folder of repeated run folders.")
    ],
    metric: Annotated[
        list[str] | None,
        typer.Option(help="Metric to compare (rps, p50, p99, p999, fail_ratio...); repeat."),
    ] = None,
    confidence: Annotated[
        float, typer.Option(help="Confidence level of the intervals.", min=0.5, max=0.999)
    ] = 0.95,
    resamples: Annotated[
        int, typer.Option(help="Bootstrap resamples per interval.", min=100)
    ] = 5_000,
    seed: Annotated[int, typer.Option(help="Seed of the bootstrap's random numbers.")] = 0,
) -> None:
    """Show the change per endpoint and metric, with confidence intervals from repeats."""
    from perfgate.compare import DEFAULT_METRICS, compare_runs, load_side
    from perfgate.compare.table import comparison_table

    comparison = compare_runs(
        load_side(baseline),
        load_side(candidate),
        metrics=tuple(metric or DEFAULT_METRICS),
        confidence=confidence,
        resamples=resamples,
        seed=seed,
    )
    console.print(comparison_table(comparison))
    if comparison.invalid_runs:
        error_console.print(
            f"[yellow]warning:[/] invalid runs compared: {', '.join(comparison.invalid_runs)}",
            highlight=False,
        )


@app.command()
def history(
    metric: Annotated[
        str,
        typer.Option(
            help="Endpoint and metric such as 'GET /db p99', or a benchmark and "
            "a statistic such as 'test_encode[orjson] mean'."
        ),
    ],
    last: Annotated[int | None, typer.Option(help="Show only the last K results.", min=1)] = None,
    results: Annotated[
        Path, typer.Option(help="Folder of run folders and bench/ to index first.")
    ] = Path("results"),
    store: Annotated[
        Path | None, typer.Option(help="History store folder (default: RESULTS/history).")
    ] = None,
    index: Annotated[
        bool, typer.Option(help="Index new and changed results before the query.")
    ] = True,
    html: Annotated[Path | None, typer.Option(help="Also write the trend as an HTML page.")] = None,
    profile: Annotated[str | None, typer.Option(help="Keep only runs of this profile.")] = None,
    configuration: Annotated[
        str | None, typer.Option(help="Keep only this configuration label.")
    ] = None,
    include_invalid: Annotated[
        bool, typer.Option(help="Keep invalid runs, which prove nothing.")
    ] = False,
    verbose: VerboseOption = False,
) -> None:
    """Show the trend of one metric over stored runs and benchmark results."""
    from perfgate.history import MetricSpec, RunFilter, index_results, load_trend
    from perfgate.history.render import trend_table, write_trend_page

    configure_logging(verbose)
    store_dir = store or results / "history"
    if index and results.is_dir():
        summary = index_results(store_dir, results)
        for path, reason in summary.rejected:
            error_console.print(f"[yellow]skipped[/] {path}: {reason}", highlight=False)
    spec = MetricSpec.parse(metric)
    run_filter = RunFilter(
        profile=profile, configuration=configuration, include_invalid=include_invalid
    )
    trend = load_trend(store_dir, spec, last=last, run_filter=run_filter)
    console.print(trend_table(trend, spec))
    if html is not None:
        console.print(f"trend page: {write_trend_page(trend, spec, html)}", highlight=False)
