"""The HTML report: contents, escaping, window histograms and the percentile spectrum."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from perfgate.errors import ConfigError, ResultsError
from perfgate.histograms.histogram import new_histogram, percentile_ms
from perfgate.report import load_run, write_report
from perfgate.report.spectrum import percentile_spectrum
from perfgate.report.synthetic import SyntheticEndpoint, SyntheticRun, write_synthetic_run
from perfgate.results.store import read_run


def test_report_goes_into_run_folder(run_dir: Path) -> None:
    path = write_report([run_dir])
    html = path.read_text()

    assert path == run_dir / "report.html"
    # A spectrum and a timeline per endpoint and for the total.
    assert html.count("<svg") == 8
    for index, name in enumerate(["GET /db", "GET /json", "GET /queries", "total"]):
        assert f'<h2 id="run0-{index}">{name}</h2>' in html
    record = read_run(run_dir)
    assert f"{record.total.requests:,}" in html
    assert "HTTPError: 500 Server Error" in html
    assert "measurement window" in html
    assert "p99 uncorrected" not in html


def test_report_has_no_script_or_remote_resource(run_dir: Path) -> None:
    html = write_report([run_dir]).read_text()

    assert "<script" not in html
    assert "<link" not in html
    assert "<img" not in html
    assert "src=" not in html
    assert "@import" not in html


def test_hostile_strings_are_escaped(tmp_path: Path) -> None:
    message = "<script>alert(1)</script>"
    endpoint = "GET /<img src=x onerror=alert(2)>"
    variant = '"><svg onload=alert(3)>'
    shape = SyntheticRun(
        "hostile",
        [SyntheticEndpoint(endpoint, 50, 2.0, failure_ratio=0.2, error_message=message)],
        variant=variant,
    )
    run_dir = write_synthetic_run(tmp_path, shape)

    html = write_report([run_dir]).read_text()

    assert message not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert endpoint not in html
    assert "GET /&lt;img src=x onerror=alert(2)&gt;" in html
    assert variant not in html
    assert "&#34;&gt;&lt;svg onload=alert(3)&gt;" in html
    assert "<script" not in html
    assert "<img" not in html


def test_window_histograms_match_run_json(run_dir: Path) -> None:
    run = load_run(run_dir)
    record = run.record

    assert run.spectrum_scope == "window"
    for result in [*record.endpoints, record.total]:
        histogram = run.histograms[result.name].corrected
        assert histogram.get_total_count() == result.requests, result.name
        assert percentile_ms(histogram, 99.0) == result.latency_ms.p99, result.name
        assert run.histograms[result.name].uncorrected is None


def test_run_without_window_spectrum_covers_whole_run(run_dir: Path) -> None:
    document = json.loads((run_dir / "run.json").read_text())
    document["window"] = {"start_s": 0.0, "end_s": 0.0, "steady": False}
    (run_dir / "run.json").write_text(json.dumps(document))

    run = load_run(run_dir)
    html = write_report([run_dir]).read_text()

    endpoint_rows = run.timeseries[run.timeseries["endpoint"] != "total"]
    assert run.spectrum_scope == "whole run"
    assert run.histograms["total"].corrected.get_total_count() == endpoint_rows["requests"].sum()
    assert "spectrum over the whole run" in html


def test_open_model_run_draws_uncorrected_latency(open_run_dir: Path) -> None:
    run = load_run(open_run_dir)
    html = write_report([open_run_dir]).read_text()

    db = run.histograms["GET /db"]
    assert db.uncorrected is not None
    assert db.uncorrected.get_total_count() == db.corrected.get_total_count()
    assert percentile_ms(db.uncorrected, 99.0) < percentile_ms(db.corrected, 99.0)
    # matplotlib copies legend labels into SVG comments: one pair per spectrum.
    assert html.count("<!-- uncorrected -->") == 4
    assert html.count("<!-- corrected -->") == 4


def test_uncorrected_summary_is_shown(run_dir: Path) -> None:
    document = json.loads((run_dir / "run.json").read_text())
    for entry in [*document["endpoints"], document["total"]]:
        entry["latency_uncorrected_ms"] = {**entry["latency_ms"], "p99": 0.123}
    (run_dir / "run.json").write_text(json.dumps(document))

    html = write_report([run_dir]).read_text()

    assert html.count("<svg") == 8
    assert "p99 uncorrected" in html
    assert html.count(">0.12 ms</td>") == 4


def test_missing_files_leave_their_parts_out(run_dir: Path) -> None:
    (run_dir / "timeseries.csv").unlink()
    (run_dir / "histograms.hlog").unlink()

    html = write_report([run_dir]).read_text()

    assert "<svg" not in html
    assert "Missing from the run folder: timeseries.csv, histograms.hlog" in html
    assert ">GET /db</h2>" in html


def test_truncated_run_json_is_rejected(run_dir: Path) -> None:
    raw = (run_dir / "run.json").read_bytes()
    (run_dir / "run.json").write_bytes(raw[: len(raw) // 2])

    with pytest.raises(ResultsError, match="is truncated or not JSON"):
        write_report([run_dir])


def test_timeseries_without_columns_is_rejected(run_dir: Path) -> None:
    (run_dir / "timeseries.csv").write_text("second,users\n1,2\n")

    with pytest.raises(ResultsError, match=r"lacks the columns \['elapsed_s', 'endpoint'"):
        write_report([run_dir])


def test_no_run_folder_is_rejected() -> None:
    with pytest.raises(ConfigError, match="no run folder given"):
        write_report([])


def test_several_runs_get_comparison_and_overlays(tmp_path: Path) -> None:
    endpoints = [SyntheticEndpoint("GET /db", 100, 3.0)]
    slower = [SyntheticEndpoint("GET /db", 100, 4.5)]
    runs = [
        write_synthetic_run(tmp_path, SyntheticRun("a-0", endpoints, seed=0)),
        write_synthetic_run(tmp_path, SyntheticRun("a-1", endpoints, seed=1)),
        write_synthetic_run(tmp_path, SyntheticRun("b-0", slower, codec="json", seed=2)),
        write_synthetic_run(tmp_path, SyntheticRun("b-1", slower, codec="json", seed=3)),
    ]

    path = write_report(runs)
    html = path.read_text()

    assert path == tmp_path / "report-a-0--b-1.html"
    assert (
        "Comparison: synthetic raw/orjson/uvloop/sqlite/jump/4 shards → synthetic raw/json/" in html
    )
    assert "needs 2+ repeats" not in html
    assert '<td class="worse">worse</td>' in html
    # Overlays: 2 plots for GET /db and total. Each run: 2 plots for GET /db and total.
    assert html.count("<svg") == 2 * 2 + 4 * 2 * 2
    assert html.count("<details>") == 4


def test_repeats_of_one_configuration_compare_first_with_each(tmp_path: Path) -> None:
    endpoints = [SyntheticEndpoint("GET /db", 100, 3.0)]
    runs = [
        write_synthetic_run(tmp_path, SyntheticRun(f"r{i}", endpoints, seed=i)) for i in range(3)
    ]

    html = write_report(runs, tmp_path / "out.html").read_text()

    assert "Comparison: r0 → r1" in html
    assert "Comparison: r0 → r2" in html
    assert "needs 2+ repeats a side" in html


def test_spectrum_runs_from_min_to_max() -> None:
    histogram = new_histogram()
    for value_us in range(1_000, 101_000, 100):
        histogram.record_value(value_us)

    points = percentile_spectrum(histogram)

    latencies = [point.latency_ms for point in points]
    assert latencies == sorted(latencies)
    assert points[0].latency_ms == histogram.get_min_value() / 1000
    assert points[-1].latency_ms == histogram.get_max_value() / 1000
    assert points[-1].percentile == pytest.approx(100 * (1 - 1 / 1000))
    assert all(point.percentile < 100 for point in points)
    assert points[-1].inverse_tail == pytest.approx(1000)


def test_spectrum_of_empty_histogram_is_empty() -> None:
    assert percentile_spectrum(new_histogram()) == []
