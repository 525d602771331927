"""Commands of the micro-benchmark suite and the regression gate: `bench` and `gate`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from perfgate.cli.app import VerboseOption, app, configure_logging, console, error_console


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def bench(
    ctx: typer.Context,
    out: Annotated[Path, typer.Option(help="Folder for the JSON files.")] = Path("results/bench"),
    suite: Annotated[Path, typer.Option(help="Benchmark folder or file to run.")] = Path(
        "microbench"
    ),
    repeat: Annotated[
        int | None,
        typer.Option(
            help="Runs of the suite (1 to 50), each in a fresh process; 1 by default, 5 with --ab."
        ),
    ] = None,
    ab: Annotated[
        str | None,
        typer.Option(
            "--ab",
            help="Git revision to measure against the working tree, the two runs taking turns.",
        ),
    ] = None,
    verbose: VerboseOption = False,
) -> None:
    """Run microbench/ with pytest-benchmark and store its JSON under results/bench/.

    Arguments after the options go to pytest, for example
    `perfgate bench -k serialization --benchmark-max-time=0.2`.
    """
    from perfgate.bench.runner import BenchOptions, pytest_args, run_bench

    configure_logging(verbose)
    repeats = repeat
    if repeats is None:
        repeats = 1 if ab is None else 5
    options = BenchOptions(suite=suite, out=out, repeats=repeats, pytest_args=pytest_args(ctx.args))
    if ab is not None:
        from perfgate.bench.ab import run_ab

        outcome = run_ab(ab, options, on_file=_print_file)
        if outcome.exit_code == 0:
            console.print(
                "compare them with: perfgate gate "
                + " ".join(f"--baseline {path}" for path in outcome.base_paths)
                + " "
                + " ".join(f"--candidate {path}" for path in outcome.candidate_paths),
                highlight=False,
                soft_wrap=True,
            )
        raise typer.Exit(outcome.exit_code)

    result = run_bench(options, on_file=_print_file)
    raise typer.Exit(result.exit_code)


def _print_file(path: Path) -> None:
    console.print(f"results: {path}", highlight=False)


@app.command()
def gate(
    results: Annotated[
        list[Path] | None,
        typer.Argument(help="pytest-benchmark JSON file(s) that --claims is judged on."),
    ] = None,
    baseline: Annotated[
        list[Path] | None,
        typer.Option(help="Baseline JSON file or run folder; repeat for more repeats."),
    ] = None,
    candidate: Annotated[
        list[Path] | None,
        typer.Option(help="Candidate JSON file or run folder; repeat for more repeats."),
    ] = None,
    tolerance: Annotated[
        str, typer.Option(help="Change that counts as none, such as 5% or 0.05.")
    ] = "5%",
    fdr: Annotated[
        float, typer.Option("--fdr", help="False discovery rate over all benchmarks (0 to 1).")
    ] = 0.01,
    method: Annotated[
        str,
        typer.Option(
            help=(
                "Interval method: welch or paired (2+ repeats a side), bootstrap or hodges-lehmann."
            )
        ),
    ] = "welch",
    statistic: Annotated[
        str,
        typer.Option(
            help="Value welch and paired take from each repeat: min, median, or auto "
            "(min for benchmark files, median for run folders)."
        ),
    ] = "auto",
    min_samples: Annotated[
        int, typer.Option(help="Samples each side needs for a benchmark to be judged.")
    ] = 5,
    allow_mismatch: Annotated[
        bool, typer.Option(help="Judge even when the machines or parameters differ.")
    ] = False,
    claims: Annotated[
        Path | None, typer.Option(help="Claims file (TOML) to judge on RESULTS.")
    ] = None,
    allow_missing: Annotated[
        bool, typer.Option(help="Pass claims whose benchmarks are missing instead of exit 2.")
    ] = False,
    markdown: Annotated[
        Path | None, typer.Option(help="Write a Markdown summary here (for a CI job summary).")
    ] = None,
    junit: Annotated[Path | None, typer.Option(help="Write JUnit XML here.")] = None,
    verbose: VerboseOption = False,
) -> None:
    """Judge a candidate against a baseline, and design claims; exit 1 on a regression.

    Exit codes: 0 passed, 1 a regression or a broken claim, 2 bad input or a benchmark
    that could not be judged, 3 an invalid run among the inputs.
    """
    from perfgate.gate.job import GateRequest, parse_share, run_gate
    from perfgate.gate.outputs import claims_table, report_table
    from perfgate.gate.verdicts import GateSettings

    configure_logging(verbose)
    request = GateRequest(
        baseline=tuple(baseline or ()),
        candidate=tuple(candidate or ()),
        claims=claims,
        claim_results=tuple(results or ()),
        settings=GateSettings(
            tolerance=parse_share(tolerance),
            false_discovery_rate=fdr,
            method=method,
            min_samples=min_samples,
            allow_mismatch=allow_mismatch,
            statistic=statistic,
        ),
        markdown=markdown,
        junit=junit,
        allow_missing=allow_missing,
    )
    outcome = run_gate(request)

    if outcome.report is not None:
        console.print(report_table(outcome.report))
        for label, names in (
            ("only in the baseline", outcome.report.only_baseline),
            ("only in the candidate", outcome.report.only_candidate),
        ):
            if names:
                error_console.print(f"[yellow]{label}:[/] {', '.join(names)}", highlight=False)
    if outcome.claims:
        console.print(claims_table(outcome.claims))
    raise typer.Exit(outcome.exit_code)
