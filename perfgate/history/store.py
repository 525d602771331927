"""The history store: every run's and benchmark file's metrics as rows in Parquet files.

Layout, under the store folder (`results/history` by default):

    runs/<folder>-<hash>.parquet    one file per perfgate run folder
    bench/<stem>-<hash>.parquet     one file per pytest-benchmark JSON file

`<hash>` is a short digest of the source's absolute path, so a run copied into
results/baselines gets a file of its own. Each file contains one row per (name,
metric) of its source, in the columns of `COLUMNS`, with `format` set to
`perfgate.history/1`. Because each source has its own file, indexing never rewrites
another source's rows and two perfgate processes can index at once. Each file is
written through a temporary file and a rename, and indexing a source again replaces
its file. Rows of deleted run folders stay in the store as history.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import os
from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from perfgate.errors import PerfgateError, ResultsError
from perfgate.history.rows import bench_rows, run_rows
from perfgate.results.store import RUN_FILE

logger = logging.getLogger(__name__)

DEFAULT_STORE = Path("results/history")
STORE_FORMAT = "perfgate.history/1"
KNOWN_FORMATS = frozenset({STORE_FORMAT})
RUNS_FOLDER = "runs"
BENCH_FOLDER = "bench"
COLUMNS = (
    "format",
    "kind",
    "source_id",
    "started_at",
    "path",
    "verdict",
    "profile",
    "configuration",
    "git_commit",
    "name",
    "metric",
    "value",
    "unit",
)


@dataclasses.dataclass(frozen=True)
class IndexSummary:
    """Counts of one `index_results` pass.

    Attributes:
        indexed: sources whose rows were written.
        unchanged: sources whose stored rows were already newer than the source.
        rejected: (path, reason) of each source that could not be read and was skipped.
    """

    indexed: int
    unchanged: int
    rejected: tuple[tuple[Path, str], ...]


def index_run(store: Path, run_dir: Path) -> Path:
    """Store the metrics of one run folder and return the Parquet file written.

    Raises:
        ResultsError: the run's run.json is missing, truncated or invalid.
    """
    folder = (run_dir.parent if run_dir.is_file() else run_dir).resolve()
    return _write_rows(_stored_file(store, folder, RUNS_FOLDER), run_rows(folder))


def index_bench(store: Path, json_path: Path) -> Path:
    """Store the statistics of one pytest-benchmark JSON file and return the file written.

    Raises:
        ResultsError: the file is missing or is not pytest-benchmark output.
    """
    source = json_path.resolve()
    return _write_rows(_stored_file(store, source, BENCH_FOLDER), bench_rows(source))


def index_results(store: Path, results_dir: Path) -> IndexSummary:
    """Index every run folder and benchmark file under `results_dir` that changed.

    Run folders are found by their run.json at any depth (so `baselines/` counts);
    benchmark files are the `*.json` files under `results_dir/bench`. The store's
    own folder is skipped. A source that cannot be read is logged and skipped.
    """
    indexed = unchanged = 0
    rejected: list[tuple[Path, str]] = []
    for source, kind in _sources(store, results_dir):
        stored = _stored_file(store, source.parent if kind == RUNS_FOLDER else source, kind)
        if stored.exists() and stored.stat().st_mtime >= source.stat().st_mtime:
            unchanged += 1
            continue
        try:
            index_run(store, source.parent) if kind == RUNS_FOLDER else index_bench(store, source)
        except PerfgateError as exc:
            logger.warning("history: skipped %s: %s", source, exc)
            rejected.append((source, str(exc)))
            continue
        indexed += 1
    return IndexSummary(indexed, unchanged, tuple(rejected))


def _sources(store: Path, results_dir: Path) -> Iterable[tuple[Path, str]]:
    store_resolved = store.resolve()
    for path in sorted(results_dir.rglob(RUN_FILE)):
        if not path.resolve().is_relative_to(store_resolved):
            yield path, RUNS_FOLDER
    bench_dir = results_dir / BENCH_FOLDER
    if bench_dir.is_dir():
        for path in sorted(bench_dir.rglob("*.json")):
            yield path, BENCH_FOLDER


def _stored_file(store: Path, source: Path, kind: str) -> Path:
    """Return the store file of a run folder or a benchmark file."""
    resolved = source.resolve()
    digest = hashlib.sha256(str(resolved).encode()).hexdigest()[:10]
    stem = resolved.name if kind == RUNS_FOLDER else resolved.stem
    return store / kind / f"{stem}-{digest}.parquet"


def _write_rows(path: Path, rows: list[dict[str, object]]) -> Path:
    frame = pd.DataFrame(rows, columns=list(COLUMNS))
    frame["format"] = STORE_FORMAT
    frame["started_at"] = pd.to_datetime(frame["started_at"], utc=True)
    frame["value"] = frame["value"].astype("float64")
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    frame.to_parquet(temporary, index=False)
    os.replace(temporary, path)
    return path


def read_store(store: Path) -> pd.DataFrame:
    """Read every stored row; an empty frame with `COLUMNS` when the store is empty.

    Raises:
        ResultsError: a store file is corrupt or of an unknown format.
    """
    files = sorted(store.glob(f"{RUNS_FOLDER}/*.parquet")) + sorted(
        store.glob(f"{BENCH_FOLDER}/*.parquet")
    )
    if not files:
        return pd.DataFrame({column: [] for column in COLUMNS})
    frames = [_read_file(file) for file in files]
    return pd.concat(frames, ignore_index=True)


def _read_file(path: Path) -> pd.DataFrame:
    try:
        frame = pd.read_parquet(path)
    except (OSError, ValueError) as exc:
        msg = f"history file {str(path)!r} cannot be read ({exc}); delete it and index again"
        raise ResultsError(msg) from None
    formats = set(frame["format"].unique()) if "format" in frame.columns else {None}
    unknown = formats - KNOWN_FORMATS
    if unknown:
        msg = (
            f"history file {str(path)!r} has format {sorted(map(str, unknown))}; this perfgate "
            f"reads {', '.join(sorted(KNOWN_FORMATS))}. Delete the store and index again"
        )
        raise ResultsError(msg)
    return frame
