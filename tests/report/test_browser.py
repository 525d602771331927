"""The report rendered by a real headless Chromium: plots are present and drawn with data.

Chromium runs as a subprocess with a fresh profile and no network features. The
screenshot check counts pixels of the plot line colour: only the plots use it,
so a page whose plots are missing or empty has almost none.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from perfgate.report import write_report
from perfgate.report.charts import RUN_COLORS, WINDOW_COLOR
from perfgate.report.synthetic import SyntheticEndpoint, SyntheticRun, write_synthetic_run

CHROMIUM_TIMEOUT_S = 90
PAGE_WIDTH = 1400
PAGE_HEIGHT = 2400
LINE_COLOR = RUN_COLORS[0]


class Chromium:
    """A headless Chromium run once per call, each time with a new profile folder."""

    def __init__(self, executable: str, profile_root: Path) -> None:
        self._executable = executable
        self._profile_root = profile_root
        self._calls = 0

    def _run(self, page: Path, *options: str) -> str:
        self._calls += 1
        profile = self._profile_root / f"profile-{self._calls}"
        profile.mkdir(parents=True)
        command = [
            self._executable,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            f"--user-data-dir={profile}",
            *options,
            page.resolve().as_uri(),
        ]
        completed = subprocess.run(
            command, capture_output=True, text=True, timeout=CHROMIUM_TIMEOUT_S, check=False
        )
        assert completed.returncode == 0, f"chromium failed: {completed.stderr[-2000:]}"
        return completed.stdout

    def screenshot(self, page: Path, png: Path) -> Image.Image:
        """Render `page` in a PAGE_WIDTH x PAGE_HEIGHT window and return the screenshot."""
        self._run(page, f"--screenshot={png}", f"--window-size={PAGE_WIDTH},{PAGE_HEIGHT}")
        assert png.is_file(), f"chromium wrote no screenshot to {png}"
        return Image.open(png).convert("RGB")

    def dump_dom(self, page: Path) -> str:
        """Render `page` and return the DOM as Chromium serialises it."""
        return self._run(page, "--dump-dom")


@pytest.fixture
def chromium(tmp_path: Path) -> Chromium:
    """Return a headless Chromium; skip when it is missing, unless services are required."""
    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    if executable is None:
        reason = "chromium is not installed; run .ci/install-chromium"
        if os.environ.get("PERFGATE_REQUIRE_SERVICES") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    return Chromium(executable, tmp_path / "chromium")


def _hex_rgb(color: str) -> tuple[int, int, int]:
    return int(color[1:3], 16), int(color[3:5], 16), int(color[5:7], 16)


def _count_near(
    image: Image.Image, color: str, box: tuple[int, int, int, int], tolerance: int = 40
) -> int:
    """Count pixels inside `box` within `tolerance` of `color` on each channel."""
    pixels = np.asarray(image.crop(box), dtype=np.int16)
    target = np.array(_hex_rgb(color), dtype=np.int16)
    return int(np.all(np.abs(pixels - target) < tolerance, axis=-1).sum())


def test_screenshot_shows_drawn_plots(chromium: Chromium, run_dir: Path, tmp_path: Path) -> None:
    page = write_report([run_dir])

    image = chromium.screenshot(page, tmp_path / "report.png")

    left = (0, 0, PAGE_WIDTH // 2, PAGE_HEIGHT)
    right = (PAGE_WIDTH // 2, 0, PAGE_WIDTH, PAGE_HEIGHT)
    # Spectra sit in the left column and time lines in the right one, both in the line colour.
    assert _count_near(image, LINE_COLOR, left) > 1_500
    assert _count_near(image, LINE_COLOR, right) > 1_500
    # The p99 line and the failure bars.
    assert _count_near(image, RUN_COLORS[1], right) > 500


def test_screenshot_without_data_has_no_plot_pixels(
    chromium: Chromium, run_dir: Path, tmp_path: Path
) -> None:
    """The pixel check fails on a report whose plots are missing."""
    (run_dir / "timeseries.csv").unlink()
    (run_dir / "histograms.hlog").unlink()
    page = write_report([run_dir])

    image = chromium.screenshot(page, tmp_path / "empty.png")

    assert _count_near(image, LINE_COLOR, (0, 0, PAGE_WIDTH, PAGE_HEIGHT)) < 100


def test_dom_has_svg_plots_with_paths(chromium: Chromium, run_dir: Path) -> None:
    page = write_report([run_dir])

    dom = chromium.dump_dom(page)

    figures = re.findall(r"<figure class=\"(spectrum|timeline)\">(.*?)</figure>", dom, re.DOTALL)
    assert [kind for kind, _ in figures] == ["spectrum", "timeline"] * 4
    for kind, body in figures:
        assert body.count("<svg") == 1, kind
        paths = re.findall(r' d="([^"]+)"', body)
        long_paths = [path for path in paths if len(re.findall(r"\bL ", path)) >= 10]
        assert long_paths, f"{kind} plot has no line with data"


def test_window_shading_is_drawn(chromium: Chromium, run_dir: Path, tmp_path: Path) -> None:
    page = write_report([run_dir])

    dom = chromium.dump_dom(page)
    image = chromium.screenshot(page, tmp_path / "window.png")

    assert f"fill: {WINDOW_COLOR}" in dom
    # WINDOW_COLOR at 12% opacity over white; white itself is 10 to 22 away on each channel.
    shaded = _count_near(image, "#e9f5ea", (PAGE_WIDTH // 2, 0, PAGE_WIDTH, PAGE_HEIGHT), 4)
    assert shaded > 20_000


def test_hostile_message_stays_text_in_the_browser(chromium: Chromium, tmp_path: Path) -> None:
    message = "<script>alert(1)</script>"
    shape = SyntheticRun(
        "hostile", [SyntheticEndpoint("GET /db", 50, 2.0, failure_ratio=0.2, error_message=message)]
    )
    page = write_report([write_synthetic_run(tmp_path, shape)])

    dom = chromium.dump_dom(page)

    assert "<script" not in dom
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in dom
