"""The engine on virtual time against the simulator: happy paths, every failure, cancel, fairness."""

from __future__ import annotations

import dataclasses
import itertools
import logging
from pathlib import Path

import pytest

from core.errors import QuotaExhausted
from core.jobs.admission import Limits
from core.jobs.engine import EngineConfig
from core.types import ImageRole, JobState
from tests.engine.conftest import Harness


async def balance(h: Harness, user: str = "alice", scope: str = "g1") -> int | None:
    quota = await h.store.quota(platform="console", user_id=user, scope_id=scope)
    return quota.balance


async def test_poses_job_is_delivered_once_and_charged_its_cost(harness: Harness) -> None:
    service = await harness.start_engine()
    before = await balance(harness)
    view = await service.submit(harness.request(n=3))
    assert view.state == JobState.ACCEPTED and view.cost == 3
    assert await balance(harness) == before - 3  # held at once
    await harness.run_until_state(view.job_id, JobState.DELIVERED)
    (ref, _, images) = harness.messenger.delivered[0]
    assert ref == "ref-0" and len(images) == 3 and all(img.data for img in images)
    assert len(harness.messenger.delivered) == 1
    assert await balance(harness) == before - 3  # captured, not charged again
    totals = await harness.store.ledger_totals()
    assert totals.get("capture") == 3 and totals.get("hold") == 3


async def test_status_views_progress_and_are_paced(harness: Harness) -> None:
    service = await harness.start_engine()
    view = await service.submit(harness.request())
    await harness.run_until_state(view.job_id, JobState.DELIVERED)
    states = [v.state for _, v in harness.messenger.shown]
    assert JobState.SUBMITTED in states and states[-1] == JobState.DELIVERED
    # within one state, edits are at least view_interval apart (transitions are shown at once)
    views = [v for _, v in harness.messenger.shown]
    gaps = [b.elapsed - a.elapsed for a, b in itertools.pairwise(views) if a.state == b.state]
    assert gaps and all(gap >= harness.config.view_interval - 0.01 for gap in gaps), gaps
    assert len(harness.messenger.shown) < 40  # one job, ~60 s: not an edit per poll


async def test_replayed_event_returns_the_same_job_and_charges_once(harness: Harness) -> None:
    service = await harness.start_engine()
    request = harness.request(n=2)
    first = await service.submit(request)
    again = await service.submit(request)
    assert again.job_id == first.job_id
    assert (await harness.store.ledger_totals()).get("hold") == 2


@pytest.mark.parametrize("model", ["illustration", "scene", "sheet", "pose"])
async def test_every_transport_delivers(harness: Harness, model: str) -> None:
    service = await harness.start_engine()
    roles = {"illustration": (ImageRole.CHARACTER,), "scene": (ImageRole.CHARACTER, ImageRole.SCENE),
             "sheet": (ImageRole.CHARACTER,), "pose": (ImageRole.CHARACTER, ImageRole.POSE)}[model]
    view = await service.submit(harness.request(model=model, images=roles))
    await harness.run_until_state(view.job_id, JobState.DELIVERED, JobState.FAILED)
    job = await harness.store.get_job(view.job_id)
    assert job.state == JobState.DELIVERED, job.error
    assert len(job.outputs) >= 1


async def test_failed_job_is_refunded_with_segminds_reason(harness: Harness) -> None:
    service = await harness.start_engine()
    harness.sim.config.failure_rate = 1.0
    before = await balance(harness)
    view = await service.submit(harness.request(n=2))
    await harness.run_until_state(view.job_id, JobState.FAILED)
    job = await harness.store.get_job(view.job_id)
    assert "Nothing was charged" in job.error
    assert await balance(harness) == before
    assert harness.messenger.shown[-1][1].state == JobState.FAILED
    assert not harness.messenger.delivered


async def test_out_of_credits_fails_refunds_and_alerts_the_operator_once(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    service = await harness.start_engine()
    harness.sim.config.credits = 0.0
    caplog.set_level(logging.ERROR, logger="core.jobs.run")
    first = await service.submit(harness.request())
    second = await service.submit(harness.request(user="bob"))
    await harness.run_until_state(first.job_id, JobState.FAILED)
    await harness.run_until_state(second.job_id, JobState.FAILED)
    job = await harness.store.get_job(second.job_id)
    assert "out of credits" in job.error
    assert sum("out of credits" in r.message for r in caplog.records) == 1
    assert await balance(harness, "bob") == await balance(harness, "alice")


async def test_rate_limit_storm_slows_everyone_and_still_delivers(harness: Harness) -> None:
    service = await harness.start_engine()
    views = [await service.submit(harness.request(user=u)) for u in ("alice", "bob")]
    await harness.run_until_state(views[0].job_id, JobState.SUBMITTED, JobState.RUNNING)
    harness.sim.fail_next(429, retry_after=20, count=3)
    for view in views:
        await harness.run_until_state(view.job_id, JobState.DELIVERED)
    assert harness.engine.budget.paused_until > 0
    assert len(harness.messenger.delivered) == 2


async def test_server_errors_on_status_back_off_and_recover(harness: Harness) -> None:
    service = await harness.start_engine()
    harness.sim.config.server_error_rate = 0.5
    view = await service.submit(harness.request())
    await harness.run_until_state(view.job_id, JobState.DELIVERED, max_seconds=1800)


async def test_results_gone_after_retention_expire_with_refund(harness: Harness) -> None:
    harness.config = EngineConfig(limits=harness.config.limits, status_rps=50.0, retention=30.0)
    service = await harness.start_engine()
    before = await balance(harness)
    view = await service.submit(harness.request())
    await harness.run_until_state(view.job_id, JobState.SUBMITTED, JobState.RUNNING)
    job = await harness.store.get_job(view.job_id)
    harness.sim.expire(job.remote_ref)
    await harness.run_until_state(view.job_id, JobState.EXPIRED)
    assert "expired" in (await harness.store.get_job(view.job_id)).error
    assert await balance(harness) == before


@pytest.mark.parametrize("when", [JobState.ACCEPTED, JobState.SUBMITTED])
async def test_cancel_refunds_in_every_unfinished_state(harness: Harness, when: JobState) -> None:
    harness.config = EngineConfig(limits=Limits(max_in_flight=1, max_per_user=1, max_per_scope=1), status_rps=50)
    service = await harness.start_engine()
    before = await balance(harness, "bob")
    blocker = await service.submit(harness.request(user="alice"))
    view = await service.submit(harness.request(user="bob"))
    if when == JobState.SUBMITTED:
        await service.cancel(harness.request(user="alice").actor, harness.request().place, blocker.job_id)
        await harness.run_until_state(view.job_id, JobState.SUBMITTED, JobState.RUNNING)
    assert await harness.state(view.job_id) != JobState.CANCELLED
    bob = harness.request(user="bob")
    cancelled = await service.cancel(bob.actor, bob.place)
    assert cancelled.job_id == view.job_id and cancelled.state == JobState.CANCELLED
    assert await balance(harness, "bob") == before
    await harness.clock.advance(120)
    assert not harness.messenger.deliveries_for(bob.reply_ref)


async def test_quota_exhausted_says_when_it_resets(harness: Harness) -> None:
    service = await harness.start_engine()
    await harness.store.set_policy("g1", daily_units=3)
    with pytest.raises(QuotaExhausted) as info:
        await service.submit(harness.request(n=4))
    assert "reset" in str(info.value).lower()
    assert await harness.store.job_counts(scope_id="g1") in ({}, {"accepted": 0})


async def test_a_light_user_is_not_starved_by_a_heavy_one(harness: Harness) -> None:
    harness.config = EngineConfig(limits=Limits(max_in_flight=2, max_per_user=2, max_per_scope=4), status_rps=50)
    service = await harness.start_engine()
    heavy = [await service.submit(harness.request(user="alice")) for _ in range(20)]
    light = await service.submit(harness.request(user="bob"))
    assert light.position is not None and light.position <= 2
    await harness.run_until_state(light.job_id, JobState.SUBMITTED, JobState.RUNNING, JobState.DELIVERED)
    started_before_bob = [v for v in heavy if (await harness.store.get_job(v.job_id)).submitted_at is not None]
    assert len(started_before_bob) <= 3  # the two first slots, at most one more freed meanwhile


async def test_delivery_retries_when_the_platform_fails(harness: Harness) -> None:
    service = await harness.start_engine()
    harness.messenger.fail_deliveries = 2
    view = await service.submit(harness.request())
    await harness.run_until_state(view.job_id, JobState.DELIVERED)
    assert len(harness.messenger.delivered) == 1


async def test_saved_character_is_uploaded_once_and_its_description_joins_the_prompt(harness: Harness) -> None:
    service = await harness.start_engine()
    first = harness.request(images=())
    image = (Path(__file__).resolve().parents[2] / "bot" / "assets" / "sample_character.png").read_bytes()
    await service.save_character(first.actor, first.place, name="Luna", image=image,
                                 description="red scarf", consent=True)
    jobs = []
    for _ in range(2):  # one after the other: two jobs starting at the same moment may both upload
        request = dataclasses.replace(harness.request(images=()), character_name="luna")
        jobs.append(await service.submit(request))
        await harness.run_until_state(jobs[-1].job_id, JobState.DELIVERED)
    assert harness.sim.count("/upload-asset", method="POST") == 1
    job = await harness.store.get_job(jobs[0].job_id)
    assert job.payload["prompt"] == "on a beach. red scarf"  # core.characters.with_description


async def test_a_communitys_model_weight_sets_the_cost(harness: Harness) -> None:
    service = await harness.start_engine()
    await harness.store.set_policy("g1", model_weights={"poses": 3})
    view = await service.submit(harness.request(n=2))
    assert view.cost == 6
    assert (await harness.store.ledger_totals()).get("hold") == 6
