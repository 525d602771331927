"""Live progress of a run from the master's once-a-second ticks.

On a terminal a rich progress bar shows the stage, elapsed time against the
profile's length, and the latest second's rate, latency, failures and worker CPU.
When the output is not a terminal (CI logs, pipes) the same figures go out as plain
lines: one when the stage changes and otherwise one every `line_every_s` seconds
of run time, so a long soak does not flood the log.
"""

from __future__ import annotations

from types import TracebackType

from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from perfgate.swarm.master import Tick

DEFAULT_LINE_EVERY_S = 10.0


def tick_status(tick: Tick) -> str:
    """Describe one tick in one line: users, rate, target rate, p99, failures, worker CPU.

    The target rate appears only in open-model runs, which set `target_rps`.
    A tick has p99 only when the master fills `recent_p99_ms`; otherwise the
    latency is left out rather than shown as zero.
    """
    parts = [f"{tick.users} users", f"{tick.recent_rps:,} req/s"]
    if tick.target_rps > 0:
        parts.append(f"target {tick.target_rps:,.0f} req/s")
    p99_ms = getattr(tick, "recent_p99_ms", None)
    if isinstance(p99_ms, int | float):
        parts.append(f"p99 {p99_ms:,.1f} ms")
    parts.append(f"{tick.recent_failures:,} failures")
    parts.append(f"worker CPU {tick.cpu_max_percent:.0f}%")
    return "  ".join(parts)


class RunProgress:
    """Show ticks as a live bar on a terminal, or as throttled plain lines elsewhere.

    Use as a context manager and pass `update` as the run's tick callback.
    """

    def __init__(
        self,
        console: Console,
        duration_s: float | None = None,
        *,
        line_every_s: float = DEFAULT_LINE_EVERY_S,
    ) -> None:
        """Prepare the display.

        Args:
            console: where progress goes; its `is_terminal` picks the bar or plain lines.
            duration_s: the profile's total length, for the bar's end; None shows a
                bar without an end.
            line_every_s: seconds of run time between plain lines within one stage.
        """
        self._console = console
        self._duration_s = duration_s
        self._line_every_s = line_every_s
        self._first_at_s: float | None = None
        self._last_line_at_s: float | None = None
        self._last_stage: str | None = None
        self._progress: Progress | None = None
        self._task: TaskID | None = None

    @property
    def live(self) -> bool:
        """Whether the display is a live bar (the console is a terminal)."""
        return self._console.is_terminal

    def __enter__(self) -> RunProgress:
        if self.live:
            self._progress = Progress(
                TextColumn("[bold]{task.description:>10}"),
                BarColumn(),
                TimeElapsedColumn(),
                TextColumn("{task.fields[status]}"),
                console=self._console,
                refresh_per_second=4,
            )
            self._progress.start()
            self._task = self._progress.add_task("starting", total=self._duration_s, status="")
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None

    def update(self, tick: Tick) -> None:
        """Show one tick; the callback to hand to the run."""
        if self._first_at_s is None:
            self._first_at_s = tick.at_s
        elapsed_s = tick.at_s - self._first_at_s
        if self._progress is not None and self._task is not None:
            self._progress.update(
                self._task, completed=elapsed_s, description=tick.stage, status=tick_status(tick)
            )
            return
        if self._due(tick):
            self._console.print(
                f"{elapsed_s:6.0f} s  {tick.stage:>10}  {tick_status(tick)}", highlight=False
            )
            self._last_line_at_s = tick.at_s
            self._last_stage = tick.stage

    def _due(self, tick: Tick) -> bool:
        if self._last_line_at_s is None or tick.stage != self._last_stage:
            return True
        return tick.at_s - self._last_line_at_s >= self._line_every_s
