"""Validate the gate on real noise: false alarms on A/A pairs and detection of injected slowdowns.

The noise is recorded once from repeated runs of the same code on one machine (a
noise file, `perfgate.gate-noise/1`): for every benchmark and run, its batch medians
and batch minimums, divided by the benchmark's median over all runs. Trials of a
gate that takes each repeat's minimum replay the minimums. A simulated trial draws distinct
runs for the baseline and the candidate (so the run-to-run variation of the machine
is in every trial), resamples each run's batch medians with replacement, and judges
the pair with the gate's settings. With `interleaved=True` the trial mimics
`perfgate bench --ab`: runs 2k and 2k + 1 of the record were measured next to each
other in time, so each pair of the trial is one such couple, in random order.


- an A/A trial counts a false alarm when any benchmark is called a regression or an
  improvement;
- a slowdown trial multiplies one randomly chosen benchmark of the candidate by the
  slowdown factor, and counts a detection when the gate calls that one a regression.
"""

from __future__ import annotations

import dataclasses
import gzip
import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from perfgate.errors import ResultsError
from perfgate.gate.loaders import read_pytest_benchmark
from perfgate.gate.samples import FloatArray, ResultSet, Series, SourceKind
from perfgate.gate.statistics import DEFAULT_BATCHES, batch_medians
from perfgate.gate.verdicts import GateSettings, Verdict, judge

NOISE_SCHEMA = "perfgate.gate-noise/1"


@dataclasses.dataclass(frozen=True)
class NoiseRecord:
    """Relative batch medians of each benchmark in each recorded run.

    Attributes:
        runs: how many runs were recorded.
        benchmarks: per benchmark, one array of relative batch medians per run.
        description: where and how the noise was recorded.
        minimums: per benchmark, one array of relative batch minimums per run; empty
            in files recorded before minimums were kept.
    """

    runs: int
    benchmarks: Mapping[str, tuple[FloatArray, ...]]
    description: Mapping[str, str]
    minimums: Mapping[str, tuple[FloatArray, ...]] = dataclasses.field(default_factory=dict)


def record_noise(
    paths: Sequence[Path], description: Mapping[str, str], batches: int = DEFAULT_BATCHES
) -> NoiseRecord:
    """Build a noise record from pytest-benchmark files of the same code on one machine.

    Only benchmarks present in every file are kept.

    Raises:
        ResultsError: fewer than two files, or no benchmark common to all of them.
    """
    if len(paths) < 2:
        raise ResultsError(f"a noise record needs at least 2 runs, got {len(paths)}; record more")
    runs = [read_pytest_benchmark(path) for path in paths]
    common = [name for name in runs[0].series if all(name in run.series for run in runs)]
    if not common:
        raise ResultsError("the runs have no benchmark in common; record them from one suite")

    benchmarks: dict[str, tuple[FloatArray, ...]] = {}
    minimums: dict[str, tuple[FloatArray, ...]] = {}
    for name in common:
        samples = [run.series[name].pooled() for run in runs]
        per_run = [batch_medians(values, batches) for values in samples]
        scale = float(np.median(np.concatenate(per_run)))
        short_name = runs[0].series[name].short_name
        benchmarks[short_name] = tuple(values / scale for values in per_run)
        minimums[short_name] = tuple(_batch_minimums(values, batches) / scale for values in samples)
    return NoiseRecord(len(runs), benchmarks, dict(description), minimums)


def _batch_minimums(samples: FloatArray, batches: int) -> FloatArray:
    if len(samples) <= batches:
        return np.asarray(samples, dtype=np.float64)
    return np.array([np.min(part) for part in np.array_split(samples, batches)])


def write_noise(record: NoiseRecord, path: Path) -> None:
    """Write a noise record as gzip-compressed JSON, values rounded to 4 significant digits."""
    document = {
        "schema": NOISE_SCHEMA,
        "runs": record.runs,
        "description": dict(record.description),
        "benchmarks": _rounded(record.benchmarks),
        "minimums": _rounded(record.minimums),
    }
    path.write_bytes(gzip.compress(json.dumps(document, indent=0).encode("utf-8"), mtime=0))


def _rounded(values: Mapping[str, tuple[FloatArray, ...]]) -> dict[str, list[list[float]]]:
    return {
        name: [[float(f"{value:.4g}") for value in run] for run in runs]
        for name, runs in values.items()
    }


def _arrays(values: Mapping[str, list[list[float]]]) -> dict[str, tuple[FloatArray, ...]]:
    return {
        name: tuple(np.asarray(run, dtype=np.float64) for run in runs)
        for name, runs in values.items()
    }


def read_noise(path: Path) -> NoiseRecord:
    """Read a noise record written by `write_noise`.

    Raises:
        ResultsError: the file is missing, damaged or of another schema.
    """
    try:
        document = json.loads(gzip.decompress(path.read_bytes()))
    except FileNotFoundError:
        raise ResultsError(
            f"noise file {str(path)!r} not found; record one with validate_gate.py record"
        ) from None
    except (OSError, EOFError, ValueError) as exc:
        raise ResultsError(
            f"noise file {str(path)!r} is damaged ({exc}); record it again"
        ) from None
    if not isinstance(document, dict) or document.get("schema") != NOISE_SCHEMA:
        raise ResultsError(
            f"noise file {str(path)!r} is not a {NOISE_SCHEMA} file; record it again"
        )
    return NoiseRecord(
        int(document["runs"]),
        _arrays(document["benchmarks"]),
        document.get("description", {}),
        _arrays(document.get("minimums", {})),
    )


@dataclasses.dataclass(frozen=True)
class TrialRate:
    """How often an event happened in simulated trials, with its 95% Wilson interval."""

    events: int
    trials: int

    @property
    def rate(self) -> float:
        """The share of trials with the event."""
        return self.events / self.trials if self.trials else math.nan

    def wilson_interval(self, z: float = 1.96) -> tuple[float, float]:
        """Return the Wilson score interval of the rate (Wilson, JASA 22, 1927)."""
        if not self.trials:
            return math.nan, math.nan
        n, p = self.trials, self.rate
        center = (p + z * z / (2 * n)) / (1 + z * z / n)
        half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
        return max(0.0, center - half), min(1.0, center + half)


def _replayed_values(
    noise: NoiseRecord, settings: GateSettings
) -> Mapping[str, tuple[FloatArray, ...]]:
    """Return the batch values a trial replays: minimums when the gate takes repeats' minimums."""
    takes_minimum = settings.method in ("welch", "paired") and settings.statistic in ("auto", "min")
    if not takes_minimum:
        return noise.benchmarks
    if not noise.minimums:
        raise ResultsError(
            "the noise file has no batch minimums, which a gate that takes each repeat's "
            "minimum needs; record it again with validate_gate.py record"
        )
    return noise.minimums


def _side(
    values: Mapping[str, tuple[FloatArray, ...]],
    runs: Sequence[int],
    rng: np.random.Generator,
    slowdown: Mapping[str, float],
) -> ResultSet:
    series: dict[str, Series] = {}
    for name, per_run in values.items():
        factor = slowdown.get(name, 1.0)
        repeats = tuple(
            rng.choice(per_run[run], size=len(per_run[run]), replace=True) * factor for run in runs
        )
        series[name] = Series(name, name, "s", False, repeats, {}, {})
    sources = tuple(f"run {run}" for run in runs)
    return ResultSet(SourceKind.PYTEST_BENCHMARK, sources, {}, series)


def _draw_pair(
    noise: NoiseRecord, repeats: int, rng: np.random.Generator, interleaved: bool
) -> tuple[list[int], list[int]]:
    if noise.runs < 2 * repeats:
        raise ResultsError(
            f"{repeats} repeats per side need {2 * repeats} recorded runs, the noise file has "
            f"{noise.runs}; record more runs or simulate fewer repeats"
        )
    if not interleaved:
        chosen = [int(run) for run in rng.choice(noise.runs, size=2 * repeats, replace=False)]
        return chosen[:repeats], chosen[repeats:]

    couples = [int(couple) for couple in rng.choice(noise.runs // 2, size=repeats, replace=False)]
    flips = rng.integers(0, 2, size=repeats)
    baseline = [2 * couple + int(flip) for couple, flip in zip(couples, flips, strict=True)]
    candidate = [2 * couple + 1 - int(flip) for couple, flip in zip(couples, flips, strict=True)]
    return baseline, candidate


def false_alarm_rate(
    noise: NoiseRecord,
    settings: GateSettings,
    repeats: int,
    trials: int,
    *,
    seed: int = 1,
    interleaved: bool = False,
) -> TrialRate:
    """Simulate A/A trials and count those where the gate called any change."""
    rng = np.random.default_rng(seed)
    values = _replayed_values(noise, settings)
    alarms = 0
    for _ in range(trials):
        base_runs, cand_runs = _draw_pair(noise, repeats, rng, interleaved)
        report = judge(
            _side(values, base_runs, rng, {}), _side(values, cand_runs, rng, {}), settings
        )
        alarms += any(
            row.verdict in (Verdict.REGRESSION, Verdict.IMPROVEMENT) for row in report.rows
        )
    return TrialRate(alarms, trials)


def detection_rate(
    noise: NoiseRecord,
    settings: GateSettings,
    repeats: int,
    slowdown: float,
    *,
    trials: int,
    seed: int = 2,
    interleaved: bool = False,
) -> TrialRate:
    """Simulate trials with one benchmark `slowdown` times slower (1.10: 10%); count detections."""
    rng = np.random.default_rng(seed)
    values = _replayed_values(noise, settings)
    names = sorted(values)
    detected = 0
    for _ in range(trials):
        base_runs, cand_runs = _draw_pair(noise, repeats, rng, interleaved)
        target = names[int(rng.integers(len(names)))]
        report = judge(
            _side(values, base_runs, rng, {}),
            _side(values, cand_runs, rng, {target: slowdown}),
            settings,
        )
        verdicts = {row.name: row.verdict for row in report.rows}
        detected += verdicts[target] is Verdict.REGRESSION
    return TrialRate(detected, trials)


def synthetic_noise(
    benchmarks: int, runs: int, run_spread: float, batch_spread: float, seed: int = 0
) -> NoiseRecord:
    """Build a noise record with log-normal noise of known size, for a quiet-machine baseline.

    Each run of each benchmark gets its own level (log-normal with sigma `run_spread`),
    and each of its 20 batch medians varies around that level with sigma `batch_spread`.
    """
    rng = np.random.default_rng(seed)
    records: dict[str, tuple[FloatArray, ...]] = {}
    for index in range(benchmarks):
        levels = rng.lognormal(0.0, run_spread, runs)
        records[f"test_synthetic[{index}]"] = tuple(
            level * rng.lognormal(0.0, batch_spread, DEFAULT_BATCHES) for level in levels
        )
    # The synthetic batches stand for both statistics: their spread is the same.
    spreads = f"run spread {run_spread}, batch spread {batch_spread}"
    description = {"synthetic": f"{benchmarks} benchmarks, {spreads}"}
    return NoiseRecord(runs, records, description, records)
