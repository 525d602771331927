"""A/B runs: the suite at a git revision and at the working tree, taking turns in one job.

The base revision is checked out into a temporary git worktree, and its own code is
put first on PYTHONPATH so that its benchmarks import the base `perfgate` and
`targets`, not the installed working tree. The two sides then run in ABBA order
(base, candidate, candidate, base, ...), so a slow drift of the machine weighs on
both sides alike, and both see the same machine in the same minutes.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

from perfgate.bench.runner import BenchOptions, run_once
from perfgate.errors import EXIT_FAILED, EXIT_PASSED, EXIT_USAGE, ConfigError, ResultsError
from perfgate.results.store import new_run_id

logger = logging.getLogger(__name__)

GIT_TIMEOUT_S = 120.0


@dataclasses.dataclass(frozen=True)
class AbOutcome:
    """The JSON files of each side, in run order, and the exit code for the CLI."""

    base_paths: tuple[Path, ...]
    candidate_paths: tuple[Path, ...]
    exit_code: int


def _git(args: list[str], cwd: Path) -> str:
    try:
        completed = subprocess.run(  # noqa: S603 - git from PATH is the user's git
            ["git", *args],  # noqa: S607
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=GIT_TIMEOUT_S,
            check=True,
        )
    except FileNotFoundError:
        raise ConfigError("git not found on PATH; --ab needs git to check out the base") from None
    except subprocess.CalledProcessError as exc:
        message = exc.stderr.strip() or exc.stdout.strip()
        raise ConfigError(f"git {' '.join(args)} failed: {message}") from None
    except subprocess.TimeoutExpired:
        raise ConfigError(f"git {' '.join(args)} timed out after {GIT_TIMEOUT_S:.0f} s") from None
    return completed.stdout.strip()


def resolve_revision(ref: str, cwd: Path) -> tuple[Path, str]:
    """Return the repository root and the commit that `ref` names.

    Raises:
        ConfigError: `cwd` is not inside a git repository or `ref` names no commit.
    """
    root = Path(_git(["rev-parse", "--show-toplevel"], cwd))
    try:
        commit = _git(["rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"], root)
    except ConfigError:
        raise ConfigError(
            f"git revision {ref!r} not found; pass a branch, tag or commit, such as main or HEAD~1"
        ) from None
    return root, commit


@contextlib.contextmanager
def base_worktree(root: Path, commit: str) -> Iterator[Path]:
    """Check `commit` out into a temporary worktree and remove it afterwards."""
    with tempfile.TemporaryDirectory(prefix="perfgate-ab-") as scratch:
        path = Path(scratch) / "base"
        _git(["worktree", "add", "--detach", str(path), commit], root)
        logger.info("checked out %s into %s", commit[:12], path)
        try:
            yield path
        finally:
            # --force: the base run leaves untracked files (caches) in the worktree.
            _git(["worktree", "remove", "--force", str(path)], root)
            logger.info("removed the worktree %s", path)


def run_ab(
    ref: str, options: BenchOptions, on_file: Callable[[Path], None] | None = None
) -> AbOutcome:
    """Run the suite at `ref` and at the working tree, `options.repeats` times each, in turns.

    Raises:
        ConfigError: `ref` is unknown, or a side has no benchmark suite.
        ResultsError: a run passed but wrote no JSON file.
    """
    root, commit = resolve_revision(ref, options.cwd.resolve())
    run_id = new_run_id()
    out = options.out if options.out.is_absolute() else root / options.out
    base: list[Path] = []
    candidate: list[Path] = []

    with base_worktree(root, commit) as worktree:
        base_options = dataclasses.replace(options, cwd=worktree)
        candidate_options = dataclasses.replace(options, cwd=root)
        for repeat in range(1, options.repeats + 1):
            sides = [("base", base_options, base), ("candidate", candidate_options, candidate)]
            if repeat % 2 == 0:
                sides.reverse()
            for label, side_options, written in sides:
                path = out / f"{run_id}-{label}-r{repeat}.json"
                code = _run_side(path, side_options, worktree if label == "base" else None)
                if code != 0:
                    logger.error(
                        "the %s run %d failed with pytest exit code %d", label, repeat, code
                    )
                    exit_code = EXIT_FAILED if code in (1, 2, 3) else EXIT_USAGE
                    return AbOutcome(tuple(base), tuple(candidate), exit_code)
                if not path.is_file():
                    raise ResultsError(f"the {label} run passed but wrote no {str(path)!r}")
                written.append(path)
                if on_file is not None:
                    on_file(path)
    return AbOutcome(tuple(base), tuple(candidate), EXIT_PASSED)


def _run_side(path: Path, options: BenchOptions, worktree: Path | None) -> int:
    # The worktree's packages must shadow the editable install of the working tree.
    return run_once(path, options, import_first=worktree)
