"""Live progress of a run: a rich bar on a terminal, throttled plain lines elsewhere."""

from __future__ import annotations

import dataclasses
import io

from rich.console import Console

from perfgate.cli.progress import RunProgress, tick_status
from perfgate.swarm.master import Tick

START_S = 1_800_000_000.0


def _console(terminal: bool) -> tuple[Console, io.StringIO]:
    output = io.StringIO()
    return Console(file=output, force_terminal=terminal, width=160, color_system=None), output


def _ticks(ramp_s: int, steady_s: int) -> list[Tick]:
    ticks = []
    for offset in range(ramp_s + steady_s):
        stage = "ramp" if offset < ramp_s else "steady"
        ticks.append(Tick(START_S + offset, stage, 8, 25.0, 2, 1_000 + offset, offset % 3))
    return ticks


@dataclasses.dataclass(frozen=True)
class TickWithLatency(Tick):
    """A tick as a master that also measures the latest second's p99 would send it."""

    recent_p99_ms: float = 0.0


def test_status_names_rate_failures_and_cpu() -> None:
    status = tick_status(Tick(START_S, "steady", 16, 42.4, 2, 1_234, 5))

    assert "16 users" in status
    assert "1,234 req/s" in status
    assert "5 failures" in status
    assert "worker CPU 42%" in status
    assert "p99" not in status
    assert "target" not in status


def test_status_shows_p99_and_target_rate_when_known() -> None:
    tick = TickWithLatency(START_S, "steady", 16, 40.0, 2, 900, 0, 1_000.0, recent_p99_ms=12.345)

    status = tick_status(tick)

    assert "p99 12.3 ms" in status
    assert "target 1,000 req/s" in status


def test_plain_lines_on_stage_change_and_every_ten_seconds() -> None:
    console, output = _console(terminal=False)

    with RunProgress(console, duration_s=25.0) as progress:
        for tick in _ticks(ramp_s=5, steady_s=20):
            progress.update(tick)

    lines = output.getvalue().splitlines()
    assert not progress.live
    # The first tick (0 s), the stage change (5 s), then 10 s later (15 s). The next
    # line would be due at 25 s, after the last tick.
    assert [line.split()[0] for line in lines] == ["0", "5", "15"]
    assert "ramp" in lines[0]
    assert "steady" in lines[1]
    assert "1,005 req/s" in lines[1]
    assert "2 failures" in lines[1]


def test_live_bar_shows_latest_tick() -> None:
    console, output = _console(terminal=True)

    with RunProgress(console, duration_s=10.0) as progress:
        for tick in _ticks(ramp_s=2, steady_s=8):
            progress.update(tick)

    text = output.getvalue()
    assert progress.live
    assert "steady" in text
    assert "1,009 req/s" in text
    assert "0:00:" in text


def test_live_bar_without_duration() -> None:
    console, output = _console(terminal=True)

    with RunProgress(console) as progress:
        progress.update(_ticks(ramp_s=1, steady_s=0)[0])

    assert "1,000 req/s" in output.getvalue()
