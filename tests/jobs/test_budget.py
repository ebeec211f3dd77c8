"""core.jobs.budget: one token bucket on the injected clock for every status request of every job."""

from __future__ import annotations

import asyncio

import pytest

from core.jobs.budget import RequestBudget
from tests.fakes.clock import FakeClock

RATE = 5.0  # tokens per second: one every 0.2 s


async def _acquirers(budget: RequestBudget, names: list[str], granted: list[str]) -> list[asyncio.Task[None]]:
    async def one(name: str) -> None:
        await budget.acquire()
        granted.append(name)

    tasks = [asyncio.create_task(one(name)) for name in names]
    await asyncio.sleep(0)
    return tasks


async def _finish(tasks: list[asyncio.Task[None]]) -> None:
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


async def test_a_full_bucket_grants_its_burst_at_once_and_no_more(fake_clock: FakeClock):
    budget = RequestBudget(fake_clock, rate=RATE, burst=3)
    granted: list[str] = []
    tasks = await _acquirers(budget, ["a", "b", "c", "d"], granted)
    await fake_clock.advance(0)
    assert granted == ["a", "b", "c"]  # the burst, with no time passing
    await fake_clock.advance(0.19)
    assert granted == ["a", "b", "c"]
    await fake_clock.advance(0.02)
    assert granted == ["a", "b", "c", "d"]
    await _finish(tasks)


async def test_the_default_burst_is_one_second_of_rate(fake_clock: FakeClock):
    budget = RequestBudget(fake_clock, rate=RATE)
    granted: list[str] = []
    tasks = await _acquirers(budget, [str(i) for i in range(8)], granted)
    await fake_clock.advance(0)
    assert len(granted) == 5
    await _finish(tasks)


async def test_refill_grants_rate_per_second_in_arrival_order(fake_clock: FakeClock):
    budget = RequestBudget(fake_clock, rate=RATE, burst=1)
    granted: list[str] = []
    names = [f"job{i}" for i in range(12)]
    tasks = await _acquirers(budget, names, granted)
    await fake_clock.advance(0)
    assert granted == ["job0"]
    for _ in range(10):  # two virtual seconds, in steps finer than the refill interval
        await fake_clock.advance(0.2 + 1e-6)
    assert granted == names[:11]  # one at once, then exactly RATE a second: never ahead of the rate
    assert budget.granted == 11
    await _finish(tasks)


async def test_an_idle_bucket_saves_up_only_its_burst(fake_clock: FakeClock):
    budget = RequestBudget(fake_clock, rate=RATE, burst=2)
    await fake_clock.advance(3600)
    granted: list[str] = []
    tasks = await _acquirers(budget, ["a", "b", "c"], granted)
    await fake_clock.advance(0)
    assert granted == ["a", "b"]
    await _finish(tasks)


async def test_a_429_pause_holds_every_waiting_job_until_it_ends(fake_clock: FakeClock):
    budget = RequestBudget(fake_clock, rate=RATE, burst=3)
    budget.pause(10.0)  # one job's 429 said Retry-After: 10
    granted: list[str] = []
    tasks = await _acquirers(budget, ["job-a", "job-b", "job-c"], granted)
    await fake_clock.advance(9.9)
    assert granted == []  # tokens are there, but nobody gets one while paused
    await fake_clock.advance(0.2)
    assert granted == ["job-a", "job-b", "job-c"]
    await _finish(tasks)


async def test_a_shorter_pause_never_cuts_a_longer_one(fake_clock: FakeClock):
    budget = RequestBudget(fake_clock, rate=RATE)
    budget.pause(10.0)
    budget.pause(2.0)
    budget.pause(-5.0)
    assert budget.paused_until == pytest.approx(fake_clock.now() + 10.0)
    granted: list[str] = []
    tasks = await _acquirers(budget, ["a"], granted)
    await fake_clock.advance(5.0)
    assert granted == []
    await fake_clock.advance(5.1)
    assert granted == ["a"]
    await _finish(tasks)


def test_a_rate_must_be_positive(fake_clock: FakeClock):
    with pytest.raises(ValueError, match="positive"):
        RequestBudget(fake_clock, rate=0)
