"""Run microbench/ in a child pytest process and keep pytest-benchmark's JSON with raw timings.

Each repeat writes `results/bench/<run-id>.json` through `--benchmark-json`, which
always stores every round's timing, so the gate can read the file. Each `test_*.py`
file of a suite folder runs in its own pytest process, and their files are merged
into one: a benchmark file that imports Locust lets gevent patch threads and sockets
for the whole process, which made a later thread-pool benchmark hang. pytest prints
its own benchmark table for each file as it runs.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from perfgate.errors import EXIT_FAILED, EXIT_PASSED, EXIT_USAGE, ConfigError, ResultsError
from perfgate.results.store import new_run_id, write_atomic

logger = logging.getLogger(__name__)

DEFAULT_SUITE = Path("microbench")
DEFAULT_OUT = Path("results/bench")
# At least 20 rounds give every benchmark enough samples for the gate. Rounds of at
# least 100 us make a fast function run many iterations per round, so the timer's own
# overhead (about 0.1 us) stays under 0.1% of a round. With pytest-benchmark's default
# of 5 us, its calibration picked 1 or 200 iterations from run to run, and the
# per-call time of a 70 ns function changed fourfold between otherwise equal runs.
DEFAULT_BENCHMARK_ARGS = ("--benchmark-min-rounds=20", "--benchmark-min-time=0.0001")
MAX_REPEATS = 50
NO_TESTS_COLLECTED = 5
# A whole suite run on a 2-core machine takes about a minute; an hour is far beyond it.
RUN_TIMEOUT_S = 3600.0


@dataclasses.dataclass(frozen=True)
class BenchOptions:
    """How to run the suite.

    Attributes:
        suite: the folder (or file) of benchmarks.
        out: the folder for the JSON files.
        repeats: how many times to run the suite, each in a fresh process.
        pytest_args: extra pytest arguments, after the defaults so that they win.
        cwd: the folder pytest runs in; the suite path is relative to it.
        label: a suffix for the file names, such as `base` in A/B runs.
    """

    suite: Path = DEFAULT_SUITE
    out: Path = DEFAULT_OUT
    repeats: int = 1
    pytest_args: tuple[str, ...] = ()
    cwd: Path = Path()
    label: str = ""

    def __post_init__(self) -> None:
        """Reject a repeat count outside 1..50, naming it."""
        if not 1 <= self.repeats <= MAX_REPEATS:
            raise ConfigError(f"invalid repeat count {self.repeats!r}; use 1 to {MAX_REPEATS}")


@dataclasses.dataclass(frozen=True)
class BenchOutcome:
    """The JSON files written and the exit code for the CLI."""

    json_paths: tuple[Path, ...]
    exit_code: int


def bench_command(
    json_path: Path, options: BenchOptions, python: str = sys.executable, target: str = ""
) -> list[str]:
    """Return the pytest command line that runs `target` (the suite by default) once."""
    return [
        python,
        "-m",
        "pytest",
        target or str(options.suite),
        "-p",
        "no:cacheprovider",
        f"--benchmark-json={json_path}",
        *DEFAULT_BENCHMARK_ARGS,
        *options.pytest_args,
    ]


def run_once(
    json_path: Path,
    options: BenchOptions,
    python: str = sys.executable,
    import_first: Path | None = None,
) -> int:
    """Run the suite once and return pytest's exit code.

    `import_first` is put at the front of the child's PYTHONPATH, so that packages in it
    shadow the installed ones.

    Raises:
        ConfigError: the suite path does not exist in `options.cwd`.
    """
    if not (options.cwd / options.suite).exists():
        raise ConfigError(
            f"benchmark suite {str(options.cwd / options.suite)!r} not found; "
            "run perfgate bench from the project root or pass --suite"
        )
    json_path.parent.mkdir(parents=True, exist_ok=True)
    environment = dict(os.environ)
    if import_first is not None:
        inherited = environment.get("PYTHONPATH", "")
        environment["PYTHONPATH"] = os.pathsep.join(filter(None, [str(import_first), inherited]))

    suite = options.cwd / options.suite
    targets = [str(options.suite)]
    if suite.is_dir():
        targets = [str(options.suite / path.name) for path in sorted(suite.glob("test_*.py"))]
    parts = [json_path.with_name(f".{json_path.stem}.{n}.part.json") for n in range(len(targets))]
    codes = []
    for target, part in zip(targets, parts, strict=True):
        command = bench_command(part.resolve(), options, python, target)
        logger.info("running %s in %s", " ".join(command), options.cwd)
        try:
            completed = subprocess.run(  # noqa: S603
                command, cwd=options.cwd, env=environment, check=False, timeout=RUN_TIMEOUT_S
            )
        except subprocess.TimeoutExpired:
            logger.error("%s ran longer than %.0f s and was stopped", target, RUN_TIMEOUT_S)
            codes.append(EXIT_FAILED)
            continue
        codes.append(completed.returncode)

    _merge_parts(parts, json_path)
    # pytest's 5 means that -k or -m left no test in a file, which is fine for one file
    # of many but not for all of them.
    failures = [code for code in codes if code not in (0, NO_TESTS_COLLECTED)]
    if failures:
        return failures[0]
    return 0 if 0 in codes else NO_TESTS_COLLECTED


def _merge_parts(parts: Sequence[Path], json_path: Path) -> None:
    """Merge per-file JSON files into `json_path`, benchmarks concatenated; delete them."""
    merged: dict[str, object] | None = None
    benchmarks: list[object] = []
    for part in parts:
        if not part.is_file():
            continue
        document = json.loads(part.read_text(encoding="utf-8"))
        part.unlink()
        if merged is None:
            merged = document
        benchmarks.extend(document.get("benchmarks", []))
    if merged is None:
        return
    merged["benchmarks"] = benchmarks
    write_atomic(json_path, json.dumps(merged, indent=1).encode("utf-8"))


def run_bench(options: BenchOptions, on_file: Callable[[Path], None] | None = None) -> BenchOutcome:
    """Run the suite `options.repeats` times and return the JSON files and the exit code.

    Exit codes follow perfgate's: 0 when every run passed, 1 when a benchmark failed,
    2 when pytest rejected its arguments or found no benchmark.

    Raises:
        ConfigError: the suite path does not exist.
        ResultsError: pytest passed but wrote no JSON file.
    """
    run_id = new_run_id()
    suffix = f"-{options.label}" if options.label else ""
    written: list[Path] = []
    for repeat in range(1, options.repeats + 1):
        number = f"-r{repeat}" if options.repeats > 1 else ""
        json_path = options.out / f"{run_id}{suffix}{number}.json"
        code = run_once(json_path, options)
        if code != 0:
            return BenchOutcome(tuple(written), _exit_code(code))
        _check_written(json_path)
        written.append(json_path)
        if on_file is not None:
            on_file(json_path)
    return BenchOutcome(tuple(written), EXIT_PASSED)


def _check_written(json_path: Path) -> None:
    if not json_path.is_file():
        raise ResultsError(
            f"pytest passed but wrote no {str(json_path)!r}; check that pytest-benchmark is "
            "installed (pip install -e '.[dev]')"
        )


def _exit_code(pytest_code: int) -> int:
    # pytest: 1 tests failed, 2 interrupted, 3 internal error, 4 usage error, 5 no tests.
    return EXIT_FAILED if pytest_code in (1, 2, 3) else EXIT_USAGE


def pytest_args(args: Sequence[str]) -> tuple[str, ...]:
    """Return the extra pytest arguments, rejecting ones that would hide the JSON file.

    Raises:
        ConfigError: an argument sets --benchmark-json or disables benchmarks.
    """
    for arg in args:
        if arg.startswith("--benchmark-json") or arg in ("--benchmark-disable", "--benchmark-skip"):
            raise ConfigError(
                f"pytest argument {arg!r} conflicts with perfgate bench, which writes the "
                "JSON itself; drop it and use --out for the folder"
            )
    return tuple(args)
