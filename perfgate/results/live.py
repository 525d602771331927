"""Judge thresholds while a run is going, to abort it once one has failed.

As k6 does with `abortOnFail`, thresholds are evaluated once a second on the part of
the measurement window seen so far, starting `abort_delay_s` into the window. The
first failing threshold stops the run. A second counts once every worker should have
reported it: `SETTLE_S` seconds after it ended.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable

from perfgate.results.build import EndpointAccumulator, counts_in_total, threshold_tables
from perfgate.swarm.collector import SecondSample
from perfgate.thresholds import Threshold, judge

SETTLE_S = 2


class LiveJudge:
    """Accumulate settled window seconds and judge thresholds on them."""

    def __init__(
        self,
        thresholds: list[Threshold],
        abort_delay_s: float,
        samples_between: Callable[[int, int], list[SecondSample]],
    ) -> None:
        self._thresholds = thresholds
        self._abort_delay_s = abort_delay_s
        self._samples_between = samples_between
        self._per_endpoint: dict[str, EndpointAccumulator] = defaultdict(EndpointAccumulator)
        self._total = EndpointAccumulator()
        self._first_second: int | None = None
        self._settled_until: int | None = None

    def check(self, window_start_s: float | None, now_s: float) -> str | None:
        """Return the first failing threshold's expression, or None to go on."""
        if not self._thresholds or window_start_s is None:
            return None
        if self._first_second is None:
            self._first_second = int(window_start_s) + 1
            self._settled_until = self._first_second
        assert self._settled_until is not None

        settled_end = int(now_s) - SETTLE_S
        if settled_end > self._settled_until:
            for sample in self._samples_between(self._settled_until, settled_end):
                self._per_endpoint[sample.endpoint].add(sample)
                if counts_in_total(sample.endpoint):
                    self._total.add(sample)
            self._settled_until = settled_end

        duration_s = float(self._settled_until - self._first_second)
        if duration_s < max(self._abort_delay_s, 1.0):
            return None
        total = self._total.result("total", duration_s, open_model=False)
        endpoints = [
            accumulator.result(name, duration_s, open_model=False)
            for name, accumulator in self._per_endpoint.items()
        ]
        for result in judge(self._thresholds, *threshold_tables(total, endpoints)):
            if not result.passed:
                return result.expr
        return None
