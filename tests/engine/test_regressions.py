"""Bugs the chaos run (tests/chaos) found, each pinned by the smallest test that showed it."""

from __future__ import annotations

import asyncio
import dataclasses

from core.types import JobState
from tests.engine.conftest import ASSETS, Harness


async def test_a_429_burst_during_the_character_upload_delays_the_job_instead_of_failing_it(
    harness: Harness,
) -> None:
    # Chaos run: "job failed at Segmind: 429 Rate limit exceeded" — a burst longer than the client's
    # four tries hit the upload of a saved character, which (unlike the submit) had no rate-limit wait.
    service = await harness.start_engine()
    first = harness.request(images=())
    await service.save_character(first.actor, first.place, name="Luna", consent=True,
                                 image=(ASSETS / "sample_character.png").read_bytes())
    harness.sim.fail_next(429, retry_after=2, count=6)
    view = await service.submit(dataclasses.replace(harness.request(images=()), character_name="luna"))
    await harness.run_until_state(view.job_id, JobState.DELIVERED, JobState.FAILED)
    job = await harness.store.get_job(view.job_id)
    assert job is not None and job.state == JobState.DELIVERED, job.error
    uploads = [r for r in harness.sim.requests if r.path == "/upload-asset" and r.status == 200]
    assert len(uploads) == 1


async def test_the_same_photo_sent_by_two_users_at_once_is_accepted_for_both(harness: Harness) -> None:
    """Chaos run: two requests with one content-addressed input raced on one temporary file name."""
    service = await harness.start_engine()
    views = await asyncio.gather(*(service.submit(harness.request(user=u)) for u in ("ann", "ben", "cat")))
    assert len({v.job_id for v in views}) == 3
    for view in views:
        await harness.run_until_state(view.job_id, JobState.DELIVERED)


async def test_a_job_accepted_while_a_quota_read_is_open_still_starts(harness: Harness) -> None:
    """Discord flake (gateway RESUME test): /quota held its read snapshot on the store's shared reader while
    a job was accepted; the engine's read of the new job ran inside that snapshot, found no such job,
    and the job stayed "accepted" forever, never sent to Segmind."""
    service = await harness.start_engine()
    engine = harness.engine
    assert engine is not None
    async with harness.store.snapshot() as conn:
        await conn.execute_fetchall("SELECT COUNT(*) FROM jobs")  # the quota read has begun
        view = await service.submit(harness.request())

        def left_the_queue() -> bool:
            return any(j.job_id == view.job_id and j.state != JobState.ACCEPTED for j in engine.active_jobs())

        await harness.clock.run_until(left_the_queue, max_seconds=600)
    await harness.run_until_state(view.job_id, JobState.DELIVERED)
