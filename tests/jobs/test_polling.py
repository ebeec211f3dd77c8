"""core.jobs.polling: when to ask Segmind next, and what it learns from finished jobs."""

from __future__ import annotations

import math

import pytest

from core.jobs.polling import (
    DEFAULT_SIGMA,
    HISTORY,
    MAX_SIGMA,
    MIN_SIGMA,
    DurationModel,
    PollPlan,
    expected_remaining,
    next_delay,
)

PLAN = PollPlan()
MEDIAN, SIGMA = 60.0, 0.2
WINDOW_START = MEDIAN * math.exp(-PLAN.window_sigmas * SIGMA)  # ≈ 40.2 s
WINDOW_END = MEDIAN * math.exp(PLAN.window_sigmas * SIGMA)  # ≈ 89.5 s


def poll_times(until: float, median: float = MEDIAN, sigma: float = SIGMA) -> list[float]:
    """When a job submitted at 0 would be polled, following the plan, up to `until` seconds."""
    times, now = [], 0.0
    while True:
        now += next_delay(now, median, sigma, PLAN)
        if now > until:
            return times
        times.append(now)


def test_before_the_window_probes_are_sparse_and_land_on_its_start():
    early = [x for x in poll_times(WINDOW_START) if x < WINDOW_START - 1e-9]
    assert 1 <= len(early) <= 4  # a model that got faster is still noticed, without polling every second
    assert next_delay(0.0, MEDIAN, SIGMA, PLAN) == pytest.approx(PLAN.probe_fraction * WINDOW_START)
    # the last probe is cut short so the dense polling starts right at the window
    assert next_delay(WINDOW_START - 2.0, MEDIAN, SIGMA, PLAN) == pytest.approx(2.0)


def test_a_probe_is_never_shorter_than_the_minimum_unless_the_window_is_nearer():
    assert next_delay(0.0, 10.0, SIGMA, PLAN) == pytest.approx(PLAN.min_probe)  # a quarter would be 1.7 s
    assert next_delay(0.0, 4.0, SIGMA, PLAN) == pytest.approx(4.0 * math.exp(-0.4))  # the window opens first


def test_inside_the_window_polls_are_dense():
    for elapsed in (WINDOW_START, MEDIAN, WINDOW_END):
        assert next_delay(elapsed, MEDIAN, SIGMA, PLAN) == PLAN.dense_interval
    inside = [x for x in poll_times(WINDOW_END) if WINDOW_START <= x <= WINDOW_END]
    assert len(inside) >= int((WINDOW_END - WINDOW_START) / PLAN.dense_interval)


def test_after_the_window_the_interval_backs_off_up_to_a_cap():
    just_after = next_delay(WINDOW_END + 1.0, MEDIAN, SIGMA, PLAN)
    later = next_delay(WINDOW_END + 30.0, MEDIAN, SIGMA, PLAN)
    assert PLAN.dense_interval < just_after < later < PLAN.max_backoff
    assert later == pytest.approx(PLAN.dense_interval + PLAN.backoff_growth * 30.0)
    assert next_delay(WINDOW_END + 10_000, MEDIAN, SIGMA, PLAN) == PLAN.max_backoff


def test_a_wider_spread_starts_dense_polling_earlier():
    def first_dense(sigma: float) -> float:
        times = poll_times(200, sigma=sigma)
        return next(x for x in times if next_delay(x, MEDIAN, sigma, PLAN) == PLAN.dense_interval)

    assert first_dense(0.5) < first_dense(0.2) < first_dense(0.05)


def test_an_unlearned_model_uses_its_typical_time_and_the_default_spread():
    durations = DurationModel({"poses": 45.0})
    durations.observe("poses", 10.0)
    durations.observe("poses", 12.0)  # two samples are not yet evidence
    assert durations.estimate("poses") == (45.0, DEFAULT_SIGMA)
    assert durations.estimate("unknown-model") == (60.0, DEFAULT_SIGMA)


def test_the_median_is_learned_from_recent_completions():
    durations = DurationModel({"poses": 60.0})
    for seconds in (20.0, 30.0, 45.0):
        durations.observe("poses", seconds)
    median, _ = durations.estimate("poses")
    assert median == pytest.approx(30.0)


def test_the_spread_is_blended_towards_the_default_until_ten_samples():
    durations = DurationModel({"m": 60.0})
    for seconds in (30.0, 60.0, 120.0):
        durations.observe("m", seconds)
    logs = [math.log(x) for x in (30.0, 60.0, 120.0)]
    measured = math.sqrt(sum((x - sum(logs) / 3) ** 2 for x in logs) / 3)
    _, sigma = durations.estimate("m")
    assert sigma == pytest.approx(0.3 * measured + 0.7 * DEFAULT_SIGMA)


def test_the_spread_is_clamped_both_ways():
    steady = DurationModel({"m": 60.0})
    for _ in range(20):
        steady.observe("m", 50.0)
    assert steady.estimate("m") == (pytest.approx(50.0), MIN_SIGMA)
    wild = DurationModel({"m": 60.0})
    for i in range(20):
        wild.observe("m", 1.0 if i % 2 else 1000.0)
    assert wild.estimate("m")[1] == MAX_SIGMA


def test_old_completions_are_forgotten_and_nonsense_is_ignored():
    durations = DurationModel({"m": 60.0})
    for _ in range(HISTORY):
        durations.observe("m", 100.0)
    for _ in range(HISTORY):
        durations.observe("m", 10.0)  # the model got faster: only the recent past counts
    durations.observe("m", 0.0)
    durations.observe("m", -5.0)
    assert durations.estimate("m")[0] == pytest.approx(10.0)


def test_the_eta_counts_down_to_the_median_then_says_a_little_longer():
    assert expected_remaining(20.0, 60.0) == 40.0
    assert expected_remaining(60.0, 60.0) == 0.0
    assert expected_remaining(75.0, 60.0) == 5.0
