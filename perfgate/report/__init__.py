"""The HTML report: one self-contained page per run, or one page comparing several runs."""

from __future__ import annotations

import logging
from pathlib import Path

from perfgate.errors import ConfigError
from perfgate.report.page import render_report
from perfgate.report.rundata import RunData, load_run
from perfgate.results.store import write_atomic

logger = logging.getLogger(__name__)

REPORT_FILE = "report.html"

__all__ = ["REPORT_FILE", "RunData", "default_report_path", "load_run", "write_report"]


def default_report_path(run_dirs: list[Path]) -> Path:
    """Return where a report goes when no path is given.

    One run: `report.html` inside its folder. Several runs: a file beside the first
    run's folder named after the first and last run, so that no run's own report is
    overwritten.
    """
    if len(run_dirs) == 1:
        return run_dirs[0] / REPORT_FILE
    return run_dirs[0].parent / f"report-{run_dirs[0].name}--{run_dirs[-1].name}.html"


def write_report(run_dirs: list[Path], out: Path | None = None) -> Path:
    """Write the HTML report of one or more run folders and return its path.

    Args:
        run_dirs: run folders (or their run.json files), in the order to show them;
            with several runs the first configuration is the comparison's baseline.
        out: the HTML file to write; by default `default_report_path(run_dirs)`.

    Raises:
        ConfigError: `run_dirs` is empty.
        ResultsError: a run.json, timeseries.csv or histograms.hlog is invalid.
    """
    if not run_dirs:
        msg = "no run folder given; pass at least one folder such as results/<run-id>"
        raise ConfigError(msg)
    folders = [path.parent if path.is_file() else path for path in run_dirs]
    runs = [load_run(folder) for folder in folders]
    path = out or default_report_path(folders)
    write_atomic(path, render_report(runs).encode("utf-8"))
    logger.info("report of %d run(s) written to %s", len(runs), path)
    return path
