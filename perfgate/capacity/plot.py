"""Plot latency against arrival rate for a capacity search, with the knee marked."""

from __future__ import annotations

from pathlib import Path

from perfgate.capacity.search import CapacityResult


def write_capacity_plot(result: CapacityResult, path: Path) -> None:
    """Write an SVG of p50/p99 against the rate tried; the found capacity is a line."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    steps = sorted(result.steps, key=lambda step: step.rate_rps)
    rates = [step.rate_rps for step in steps]
    figure, axes = plt.subplots(figsize=(8, 4.5))
    axes.plot(rates, [step.p50_ms for step in steps], marker="o", label="p50")
    axes.plot(rates, [step.p99_ms for step in steps], marker="o", label="p99")
    missed = [step for step in steps if not step.met_slo]
    axes.scatter(
        [step.rate_rps for step in missed],
        [step.p99_ms for step in missed],
        color="red",
        zorder=3,
        label="missed the SLO",
    )
    if result.max_rate_rps is not None:
        prefix = "at least " if result.lower_bound else ""
        axes.axvline(
            result.max_rate_rps,
            color="green",
            linestyle="--",
            label=f"capacity {prefix}{result.max_rate_rps:g}/s",
        )
    axes.set_xlabel("arrival rate (requests/s)")
    axes.set_ylabel("latency from intended start (ms)")
    axes.set_yscale("log")
    axes.set_title("SLO: " + ", ".join(result.slo))
    axes.legend()
    figure.tight_layout()
    figure.savefig(path, format="svg")
    plt.close(figure)
