"""Status ticks cost what changed: queued jobs whose position and expected time did not move get no view
built at all; when the queue moves, exactly the jobs whose place changed are rebuilt and shown."""

from __future__ import annotations

import asyncio
import random

from core.characters import CharacterBook
from core.jobs.engine import JobEngine
from core.jobs.status import TICK_SLICE
from core.segmind.remote import RemoteRunner
from core.service import CastService
from core.store.sqlite import NewJob
from tests.engine.conftest import Harness


def idle_engine(harness: Harness) -> tuple[JobEngine, CastService]:
    """The real engine, never started: jobs are accepted and queued, none leaves for Segmind, and each tick
    runs only when the test calls it."""
    book = CharacterBook(harness.store, harness.data_dir, clock=harness.clock)
    engine = JobEngine(store=harness.store, runner=RemoteRunner(harness.client), clock=harness.clock,
                       data_dir=harness.data_dir, config=harness.config, rng=random.Random(3), uploads=book)
    service = CastService(store=harness.store, book=book, engine=engine, data_dir=harness.data_dir)
    service.register_messenger("console", harness.messenger)
    return engine, service


async def tick(harness: Harness, engine: JobEngine) -> tuple[int, dict[str, int | None]]:
    """One status tick, after the pacing interval: (views built, {job id: position shown})."""
    await harness.clock.advance(harness.config.view_interval)
    built, shown = engine.views_built, len(harness.messenger.shown)
    await engine.push_views()
    return engine.views_built - built, {v.job_id: v.position for _, v in harness.messenger.shown[shown:]}


async def test_a_tick_builds_views_only_for_queued_jobs_whose_place_or_eta_moved(harness: Harness) -> None:
    engine, service = idle_engine(harness)
    await harness.store.set_policy("g1", daily_units=1000)
    accepted = [await service.submit(harness.request(user)) for user in ("ann", "bob", "cy") for _ in range(10)]
    jobs = {user: [v.job_id for v in accepted if v.owner_id == user] for user in ("ann", "bob", "cy")}
    assert len(engine.queue) == 30
    # bob's and cy's jobs took places ahead of ann's later ones after those were shown as accepted
    now = engine.queue.positions()
    pushed_back = {v.job_id: now[v.job_id] for v in accepted if now[v.job_id] != v.position}
    assert pushed_back and len(pushed_back) < 30
    assert await tick(harness, engine) == (len(pushed_back), pushed_back)
    assert await tick(harness, engine) == (0, {})  # nothing moved: 30 queued jobs, not one view built

    before = dict(engine.queue.positions())
    await service.cancel(harness.request("ann").actor, harness.request("ann").place, jobs["ann"][0])
    after = dict(engine.queue.positions())
    moved = {job_id: after[job_id] for job_id in after if after[job_id] != before[job_id]}
    # ann's first job left: her others move up a round; bob's and cy's keep their places, but for their last
    # ones (the last round has no job of ann's any more)
    assert set(moved) == {*jobs["ann"][1:], jobs["bob"][-1], jobs["cy"][-1]}
    assert await tick(harness, engine) == (len(moved), moved)
    assert await tick(harness, engine) == (0, {})

    for seconds in (200.0, 210.0, 220.0):  # the model turns out slower: every queued job's ETA moves
        engine.durations.observe("poses", seconds)
    built, shown = await tick(harness, engine)
    assert built == 29 and shown == after
    assert await tick(harness, engine) == (0, {})


async def test_a_job_whose_view_moved_within_the_pacing_interval_is_shown_at_the_next_tick(harness: Harness) -> None:
    engine, service = idle_engine(harness)
    first = await service.submit(harness.request("ann"))
    second = await service.submit(harness.request("bob"))
    assert second.position == 2
    await engine.cancel(first.job_id)  # bob's job moves to the front, but its message was edited just now
    built, shown = engine.views_built, len(harness.messenger.shown)
    await engine.push_views()
    assert engine.views_built == built and len(harness.messenger.shown) == shown  # paced: not yet
    assert await tick(harness, engine) == (1, {second.job_id: 1})


async def test_a_tick_over_a_long_queue_lets_the_loop_serve_others_between_slices(harness: Harness) -> None:
    engine, _ = idle_engine(harness)
    for i in range(3 * TICK_SLICE):
        job, _ = await harness.store.create_job(NewJob(
            idem_key=f"q{i}", platform="console", user_id=f"u{i % 3}", user_name="u", scope_id="g1", chat_id="c",
            model="poses", prompt="p", payload={}, inputs={}, cost=0, reply_ref=f"ref-{i}"))
        await engine.enqueue(job)
    await harness.clock.advance(harness.config.view_interval)
    for seconds in (200.0, 210.0, 220.0):  # every queued job's ETA moves: the tick rebuilds all of them
        engine.durations.observe("poses", seconds)
    turns = 0

    async def other_work() -> None:
        nonlocal turns
        while not tick.done():
            turns += 1
            await asyncio.sleep(0)

    built = engine.views_built
    tick = asyncio.create_task(engine.push_views())
    await asyncio.wait_for(asyncio.gather(tick, other_work()), timeout=30)
    assert engine.views_built - built == 3 * TICK_SLICE
    assert turns >= 3  # served between slices, not only after the whole tick
