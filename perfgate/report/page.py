"""Assemble the report's sections from loaded runs and render them as one HTML page.

The page is self-contained: styles are inline, plots are inline SVG and there is no
script, so it opens with no network. Jinja2 autoescapes every string from run files
(endpoint names, error messages from target responses, labels); only the SVG that
matplotlib produced is inserted as markup.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from markupsafe import Markup

from perfgate.compare.changes import Comparison, compare_runs
from perfgate.compare.groups import configuration_label, group_by_configuration
from perfgate.compare.table import assessment, format_change, format_interval, format_value
from perfgate.report.charts import (
    SpectrumSeries,
    TimelineSeries,
    overlay_timeline_svg,
    run_color,
    spectrum_svg,
    timeline_svg,
)
from perfgate.report.rundata import TOTAL, RunData
from perfgate.report.spectrum import percentile_spectrum
from perfgate.report.templating import render_template
from perfgate.results.schema import EndpointResult, RunRecord


@dataclasses.dataclass(frozen=True)
class EndpointSection:
    """One endpoint of one run: its summary, plots and error messages."""

    name: str
    result: EndpointResult | None
    spectrum: Markup | None
    timeline: Markup | None
    errors: list[tuple[str, int]]


@dataclasses.dataclass(frozen=True)
class RunSection:
    """One run: its record, label, colour in overlays, and endpoint sections."""

    data: RunData
    label: str
    color: str
    endpoints: list[EndpointSection]

    @property
    def record(self) -> RunRecord:
        """The run's run.json."""
        return self.data.record

    @property
    def open_model(self) -> bool:
        """Whether run.json records uncorrected latency, as open-model runs do."""
        results = [*self.record.endpoints, self.record.total]
        return any(result.latency_uncorrected_ms is not None for result in results)


@dataclasses.dataclass(frozen=True)
class OverlaySection:
    """One endpoint drawn for every run: spectra and per-second throughput and p99."""

    name: str
    spectrum: Markup
    timeline: Markup | None


@dataclasses.dataclass(frozen=True)
class ComparisonSection:
    """A comparison table between the first configuration and one other."""

    title: str
    comparison: Comparison
    rows: list[dict[str, str]]


def render_report(runs: Sequence[RunData]) -> str:
    """Render the HTML page for one run, or for several runs with overlays and comparisons."""
    sections = [_run_section(index, run) for index, run in enumerate(runs)]
    overlays = _overlays(sections) if len(sections) > 1 else []
    comparisons = _comparisons([run.record for run in runs]) if len(runs) > 1 else []
    return render_template(
        "report.html.j2",
        runs=sections,
        overlays=overlays,
        comparisons=comparisons,
        format_value=format_value,
        environment_rows=_environment_rows,
    )


def _run_section(index: int, run: RunData) -> RunSection:
    record = run.record
    results = {endpoint.name: endpoint for endpoint in record.endpoints}
    results[TOTAL] = record.total
    endpoints = []
    for position, name in enumerate(run.endpoint_names):
        key = f"run{index}-endpoint{position}"
        result = results.get(name)
        endpoints.append(
            EndpointSection(
                name=name,
                result=result,
                spectrum=_run_spectrum(run, name, key),
                timeline=_run_timeline(run, name, key),
                errors=sorted((result.errors if result else {}).items(), key=lambda e: -e[1]),
            )
        )
    return RunSection(run, configuration_label(record), run_color(index), endpoints)


def _run_spectrum(run: RunData, name: str, key: str) -> Markup | None:
    histograms = run.histograms.get(name)
    if histograms is None:
        return None
    corrected = percentile_spectrum(histograms.corrected)
    if histograms.uncorrected is None:
        series = [SpectrumSeries("latency", corrected, run_color(0))]
    else:
        uncorrected = percentile_spectrum(histograms.uncorrected)
        series = [
            SpectrumSeries("corrected", corrected, run_color(0)),
            SpectrumSeries("uncorrected", uncorrected, run_color(0), dashed=True),
        ]
    return Markup(spectrum_svg(series, f"{key}-spectrum"))  # noqa: S704 (matplotlib's SVG)


def _run_timeline(run: RunData, name: str, key: str) -> Markup | None:
    rows = run.timeseries[run.timeseries["endpoint"] == name]
    if rows.empty:
        return None
    return Markup(timeline_svg(rows, run.record, f"{key}-timeline"))  # noqa: S704


def _overlays(sections: Sequence[RunSection]) -> list[OverlaySection]:
    names: dict[str, None] = {}
    for section in sections:
        names.update(dict.fromkeys(section.data.endpoint_names))
    overlays = []
    for position, name in enumerate(names):
        key = f"overlay{position}"
        spectra = []
        timelines = []
        for section in sections:
            run = section.data
            label = section.record.run_id
            histograms = run.histograms.get(name)
            if histograms is not None:
                points = percentile_spectrum(histograms.corrected)
                spectra.append(SpectrumSeries(label, points, section.color))
            rows = run.timeseries[run.timeseries["endpoint"] == name]
            if not rows.empty:
                offset_s = section.record.window.start_s
                timelines.append(TimelineSeries(label, rows, offset_s, section.color))
        spectrum = Markup(spectrum_svg(spectra, f"{key}-spectrum"))  # noqa: S704
        timeline = (
            Markup(overlay_timeline_svg(timelines, f"{key}-timeline"))  # noqa: S704
            if timelines
            else None
        )
        overlays.append(OverlaySection(name, spectrum, timeline))
    return overlays


def _comparisons(records: Sequence[RunRecord]) -> list[ComparisonSection]:
    """Compare the first configuration with each other one; repeats give intervals.

    When every run has the same configuration, each run counts as its own side and
    the first run is compared with each later one.
    """
    groups = group_by_configuration(records)
    if len(groups) == 1:
        groups = [(record.run_id, [index]) for index, record in enumerate(records)]
    (base_label, base_indexes), *others = groups
    baseline = [records[index] for index in base_indexes]
    sections = []
    for label, indexes in others:
        comparison = compare_runs(baseline, [records[index] for index in indexes])
        rows = [
            {
                "endpoint": change.endpoint,
                "metric": change.metric,
                "baseline": format_value(change.metric, change.baseline_mean),
                "candidate": format_value(change.metric, change.candidate_mean),
                "change": format_change(change),
                "interval": format_interval(change),
                "assessment": assessment(change),
            }
            for change in comparison.changes
        ]
        sections.append(ComparisonSection(f"{base_label} → {label}", comparison, rows))
    return sections


def _environment_rows(environment: dict[str, object]) -> list[tuple[str, str]]:
    """Flatten run.json's `environment` into (name, text) rows; nested maps become one row."""
    rows = []
    for name, value in environment.items():
        if isinstance(value, dict):
            text = ", ".join(f"{key} {item}" for key, item in value.items())
        else:
            text = str(value)
        rows.append((name, text))
    return rows
