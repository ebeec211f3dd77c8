"""When to ask Segmind about a job next.

Completion times of one model spread log-normally around a median (the pages: ~60 s). Polls far from
the likely completion are wasted, polls after it add delay. So: sparse probes early (a model that got
faster is still noticed), dense polls across the window where most jobs finish, back-off after it.
The median and spread are learned from recent completions per model.
"""

from __future__ import annotations

import math
import statistics
from collections import deque
from dataclasses import dataclass

DEFAULT_SIGMA = 0.2  # log-space spread when nothing is learned yet (CV ≈ 20 %)
MIN_SIGMA, MAX_SIGMA = 0.05, 0.8
HISTORY = 50  # completions remembered per model


@dataclass(frozen=True, slots=True)
class PollPlan:
    dense_interval: float = 1.4  # seconds between polls inside the likely-completion window
    window_sigmas: float = 2.0  # the window spans median·exp(±k·σ)
    probe_fraction: float = 0.25  # early probes every this fraction of the window's start
    min_probe: float = 3.0
    max_backoff: float = 15.0  # slowest poll rate once past the window
    backoff_growth: float = 0.15  # interval grows by this fraction of the elapsed overrun


class DurationModel:
    """Learns each model's typical run time (submit → completed) from recent jobs."""

    def __init__(self, typical: dict[str, float]) -> None:
        self._typical = dict(typical)
        self._recent: dict[str, deque[float]] = {}
        # every queued job's status asks for its model's estimate on every tick: worked out once per change
        self._estimates: dict[str, tuple[float, float]] = {}

    def observe(self, model: str, seconds: float) -> None:
        if seconds > 0:
            self._recent.setdefault(model, deque(maxlen=HISTORY)).append(seconds)
            self._estimates.pop(model, None)

    def estimate(self, model: str) -> tuple[float, float]:
        """(median seconds, log-space sigma)."""
        known = self._estimates.get(model)
        if known is None:
            known = self._estimates[model] = self._estimate(model)
        return known

    def _estimate(self, model: str) -> tuple[float, float]:
        recent = self._recent.get(model)
        if not recent or len(recent) < 3:
            return self._typical.get(model, 60.0), DEFAULT_SIGMA
        logs = [math.log(x) for x in recent]
        median = math.exp(statistics.median(logs))
        sigma = statistics.pstdev(logs) if len(logs) > 1 else DEFAULT_SIGMA
        # blend with the default while few samples exist, so one outlier cannot collapse the window
        weight = min(1.0, len(logs) / 10)
        sigma = weight * sigma + (1 - weight) * DEFAULT_SIGMA
        return median, min(MAX_SIGMA, max(MIN_SIGMA, sigma))


def next_delay(elapsed: float, median: float, sigma: float, plan: PollPlan = PollPlan()) -> float:
    """Seconds to wait before the next status request, `elapsed` seconds after submit."""
    start = median * math.exp(-plan.window_sigmas * sigma)
    end = median * math.exp(plan.window_sigmas * sigma)
    if elapsed < start:
        probe = max(plan.min_probe, plan.probe_fraction * start)
        return max(0.1, min(probe, start - elapsed))
    if elapsed <= end:
        return plan.dense_interval
    overrun = elapsed - end
    return min(plan.max_backoff, plan.dense_interval + plan.backoff_growth * overrun)


def expected_remaining(elapsed: float, median: float) -> float:
    """ETA shown to users: time to the median, or a short wait once past it."""
    return max(median - elapsed, 5.0 if elapsed > median else 0.0)
