"""The in-memory form of benchmark results that the gate compares.

A `ResultSet` is one side of a comparison (the baseline or the candidate): one or
more repeats of the same suite, each repeat a pytest-benchmark JSON file or a perfgate
run folder. Each benchmark or metric becomes a `Series` that keeps its samples per
repeat, because the gate resamples repeats before samples when there are several.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Mapping

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]


class SourceKind(enum.Enum):
    """The kind of file a result set was read from."""

    PYTEST_BENCHMARK = "pytest-benchmark"
    PERFGATE_RUN = "perfgate run"


@dataclasses.dataclass(frozen=True, eq=False)
class Series:
    """The samples of one benchmark or metric, one array per repeat.

    Attributes:
        name: the benchmark's full name (`file.py::test[param]`) or the metric's name
            (`GET /db p99_ms`).
        short_name: the benchmark's name without its file (`test[param]`), the name
            claims may use; equal to `name` for metrics.
        unit: the unit of every sample: `s` (seconds per call), `ms` or `rps`.
        higher_is_better: True for throughput, False for times and latencies.
        repeats: the samples of each repeat, in the order they were recorded.
        parameters: settings that must be equal for two series to be comparable.
        extra_info: values the benchmark stored beside its timings (first repeat).
    """

    name: str
    short_name: str
    unit: str
    higher_is_better: bool
    repeats: tuple[FloatArray, ...]
    parameters: Mapping[str, str]
    extra_info: Mapping[str, object]

    @property
    def sample_count(self) -> int:
        """Number of samples over all repeats."""
        return sum(len(samples) for samples in self.repeats)

    def pooled(self) -> FloatArray:
        """Return the samples of all repeats in one array."""
        return np.concatenate(self.repeats) if self.repeats else np.empty(0)


@dataclasses.dataclass(frozen=True)
class ResultSet:
    """One side of a comparison: every series of one or more repeats.

    Attributes:
        kind: what the files were.
        sources: the files or folders read, one per repeat.
        machine: what identifies the machine and interpreter (CPU, architecture, Python).
        series: the series by full name, in the order they first appeared.
        invalid_reasons: why a repeat cannot count as a measurement; a set with any
            reason is never comparable.
    """

    kind: SourceKind
    sources: tuple[str, ...]
    machine: Mapping[str, str]
    series: Mapping[str, Series]
    invalid_reasons: tuple[str, ...] = ()
