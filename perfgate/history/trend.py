"""Query the history store: one metric's trend, and the most recent matching runs."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pandas as pd

from perfgate.errors import ConfigError
from perfgate.history.store import read_store

TOTAL = "total"
TREND_COLUMNS = [
    "started_at",
    "source_id",
    "configuration",
    "verdict",
    "git_commit",
    "path",
    "value",
    "unit",
]


@dataclasses.dataclass(frozen=True)
class MetricSpec:
    """A metric of one name: `GET /db p99`, `total rps`, or a benchmark and a statistic.

    Attributes:
        name: an endpoint name, `total`, or a benchmark's full name or its short name.
        metric: the metric, such as `p99` or `rps` for runs, `mean` or `ops` for benchmarks.
    """

    name: str
    metric: str

    @classmethod
    def parse(cls, text: str) -> MetricSpec:
        """Parse `NAME METRIC` (split at the last space); a lone `METRIC` means `total`.

        Raises:
            ConfigError: the text is empty.
        """
        stripped = text.strip()
        if not stripped:
            msg = "empty --metric; write an endpoint and a metric such as 'GET /db p99'"
            raise ConfigError(msg)
        name, _, metric = stripped.rpartition(" ")
        return cls(name.strip() or TOTAL, metric)

    def __str__(self) -> str:
        return f"{self.name} {self.metric}"


@dataclasses.dataclass(frozen=True)
class RunFilter:
    """Conditions on the stored sources that a query keeps.

    Attributes:
        profile: keep only runs of this profile (`bench` for benchmark files).
        configuration: keep only this configuration label, as `perfgate compare` prints it.
        under: keep only sources whose path lies under this folder, such as results/baselines.
        include_invalid: keep runs whose verdict is `invalid`; they prove nothing, so
            they are left out unless asked for.
    """

    profile: str | None = None
    configuration: str | None = None
    under: Path | None = None
    include_invalid: bool = False

    def apply(self, rows: pd.DataFrame) -> pd.DataFrame:
        """Return the rows this filter keeps."""
        keep = pd.Series(True, index=rows.index)
        if self.profile is not None:
            keep &= rows["profile"] == self.profile
        if self.configuration is not None:
            keep &= rows["configuration"] == self.configuration
        if self.under is not None:
            folder = self.under.resolve()
            keep &= rows["path"].map(lambda path: Path(path).is_relative_to(folder))
        if not self.include_invalid:
            keep &= rows["verdict"] != "invalid"
        return rows[keep]


def load_trend(
    store: Path, spec: MetricSpec, *, last: int | None = None, run_filter: RunFilter | None = None
) -> pd.DataFrame:
    """Return one metric over stored sources, oldest first, in `TREND_COLUMNS`.

    Args:
        store: the history store folder.
        spec: the name and metric to follow.
        last: keep only the `last` most recent sources.
        run_filter: which sources to keep; by default all but invalid runs.

    Raises:
        ConfigError: `last` is below 1, or the store has no such name or metric;
            the message lists what the store does hold.
        ResultsError: a store file is corrupt.
    """
    if last is not None and last < 1:
        msg = f"invalid --last {last}; pass 1 or more"
        raise ConfigError(msg)
    rows = read_store(store)
    named = _rows_named(rows, spec.name)
    if named.empty:
        msg = (
            f"no stored metrics for {spec.name!r}; names in {str(store)!r}: {_sample(rows['name'])}"
        )
        raise ConfigError(msg)
    selected = named[named["metric"] == spec.metric]
    if selected.empty:
        msg = f"{spec.name!r} has no metric {spec.metric!r}; it has: {_sample(named['metric'])}"
        raise ConfigError(msg)

    # A run copied into another folder (such as results/baselines) is one measurement.
    selected = (run_filter or RunFilter()).apply(selected).drop_duplicates("source_id")
    trend = selected.sort_values(["started_at", "source_id"])[TREND_COLUMNS]
    if last is not None:
        trend = trend.tail(last)
    return trend.reset_index(drop=True)


def _rows_named(rows: pd.DataFrame, name: str) -> pd.DataFrame:
    """Rows of `name`, or of benchmarks whose full name ends with `::name`."""
    exact = rows[rows["name"] == name]
    if not exact.empty:
        return exact
    return rows[rows["name"].str.endswith(f"::{name}")]


def _sample(values: pd.Series[str], limit: int = 12) -> str:
    unique = sorted(str(value) for value in values.unique())
    if not unique:
        return "none (index some runs first)"
    listed = ", ".join(repr(value) for value in unique[:limit])
    return listed + (f" and {len(unique) - limit} more" if len(unique) > limit else "")


def load_recent_runs(store: Path, count: int, run_filter: RunFilter | None = None) -> list[Path]:
    """Return the folders of the `count` most recent stored runs, newest first.

    Only perfgate runs count (not benchmark files), only those `run_filter` keeps
    (by default every run that is not invalid), and only those whose folder still
    contains a run.json. The gate uses this for `--baseline-history K`.

    Raises:
        ConfigError: `count` is below 1.
        ResultsError: a store file is corrupt.
    """
    if count < 1:
        msg = f"invalid run count {count}; pass 1 or more"
        raise ConfigError(msg)
    rows = read_store(store)
    runs = (run_filter or RunFilter()).apply(rows[rows["kind"] == "run"])
    sources = runs.drop_duplicates("path").sort_values(["started_at", "source_id"], ascending=False)
    folders: list[Path] = []
    seen_ids: set[str] = set()
    for source_id, path in zip(sources["source_id"], sources["path"], strict=True):
        folder = Path(path)
        if source_id in seen_ids or not (folder / "run.json").is_file():
            continue
        folders.append(folder)
        seen_ids.add(source_id)
        if len(folders) == count:
            break
    return folders
