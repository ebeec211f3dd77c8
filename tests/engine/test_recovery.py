"""Restarts in every state: each job resumes where its row says, and is charged exactly once."""

from __future__ import annotations

import pytest

from core.jobs.admission import Limits
from core.jobs.engine import EngineConfig
from core.jobs.explain import INTERRUPTED_MESSAGE
from core.types import ImageRole, JobState
from tests.engine.conftest import FakePlatformMessenger, Harness


async def restart(h: Harness) -> None:
    await h.stop_engine()
    await h.start_engine()


async def assert_charged_once(h: Harness, job_id: str) -> None:
    job = await h.store.get_job(job_id)
    totals = await h.store.ledger_totals()
    assert totals.get("hold") == job.cost and totals.get("capture") == job.cost
    assert not totals.get("release")


async def test_restart_with_a_job_still_queued(harness: Harness) -> None:
    harness.config = EngineConfig(limits=Limits(max_in_flight=1, max_per_user=1, max_per_scope=1), status_rps=50)
    service = await harness.start_engine()
    first = await service.submit(harness.request(user="alice"))
    queued = await service.submit(harness.request(user="bob"))
    assert await harness.state(queued.job_id) == JobState.ACCEPTED
    await restart(harness)
    await harness.run_until_state(first.job_id, JobState.DELIVERED)
    await harness.run_until_state(queued.job_id, JobState.DELIVERED)
    assert harness.messenger.deliveries_for("ref-1") == 1 and len(harness.messenger.delivered) == 2


async def test_restart_while_submitted_polls_instead_of_resubmitting(harness: Harness) -> None:
    service = await harness.start_engine()
    view = await service.submit(harness.request(n=2))
    await harness.run_until_state(view.job_id, JobState.SUBMITTED, JobState.RUNNING)
    submits = harness.sim.count("/v2/consistent-character", method="POST")
    await restart(harness)
    await harness.run_until_state(view.job_id, JobState.DELIVERED)
    assert harness.sim.count("/v2/consistent-character", method="POST") == submits == 1
    assert len(harness.messenger.delivered) == 1
    await assert_charged_once(harness, view.job_id)


async def test_restart_after_completion_delivers_once(harness: Harness) -> None:
    service = await harness.start_engine()
    harness.messenger.fail_deliveries = 1_000
    view = await service.submit(harness.request())
    await harness.run_until_state(view.job_id, JobState.COMPLETED)
    await harness.stop_engine()
    harness.messenger.fail_deliveries = 0
    await harness.start_engine()
    await harness.run_until_state(view.job_id, JobState.DELIVERED)
    assert len(harness.messenger.delivered) == 1
    await assert_charged_once(harness, view.job_id)


@pytest.mark.parametrize(("attempts", "final"), [(1, JobState.DELIVERED), (2, JobState.FAILED)])
async def test_sync_call_interrupted_by_a_crash_is_retried_once(harness: Harness, attempts: int,
                                                                final: JobState) -> None:
    harness.config = EngineConfig(limits=Limits(max_in_flight=1, max_per_user=1, max_per_scope=1), status_rps=50)
    service = await harness.start_engine()
    blocker = await service.submit(harness.request(user="alice"))
    view = await service.submit(harness.request(user="bob", model="sheet", images=(ImageRole.CHARACTER,)))
    # what a crash during the blocking v1 call leaves behind: the attempt recorded, no result
    await harness.stop_engine()
    await harness.store.update_job(view.job_id, attempts=attempts)
    await harness.start_engine()
    await harness.run_until_state(blocker.job_id, JobState.DELIVERED)
    await harness.run_until_state(view.job_id, final)
    job = await harness.store.get_job(view.job_id)
    if final == JobState.FAILED:
        assert job.error == INTERRUPTED_MESSAGE
    totals = await harness.store.ledger_totals()
    assert totals.get("capture", 0) + totals.get("release", 0) == totals.get("hold")


async def test_final_status_is_shown_again_after_a_restart(harness: Harness) -> None:
    """A crash between committing a final state and the paced edit must not leave the user uninformed."""
    service = await harness.start_engine()
    harness.sim.config.failure_rate = 1.0
    view = await service.submit(harness.request())
    await harness.run_until_state(view.job_id, JobState.FAILED)
    await harness.stop_engine()
    harness.messenger = FakePlatformMessenger()  # the edit the old process made is lost with it
    await harness.start_engine()
    await harness.clock.advance(1)
    finals = [v for ref, v in harness.messenger.shown if v.job_id == view.job_id]
    assert [v.state for v in finals] == [JobState.FAILED] and "Nothing was charged" in finals[0].error


async def test_a_job_ending_before_its_platform_reconnects_is_shown_when_it_does(harness: Harness) -> None:
    """After a restart the engine runs before the adapters register: a job may fail in between."""
    service = await harness.start_engine()
    view = await service.submit(harness.request())
    await harness.stop_engine()
    harness.sim.config.failure_rate = 1.0
    harness.messenger = FakePlatformMessenger()
    await harness.start_engine(connected=False)
    await harness.run_until_state(view.job_id, JobState.FAILED)
    assert not harness.messenger.shown
    harness.engine.register_messenger("console", harness.messenger)
    await harness.clock.advance(1)
    assert [v.state for _, v in harness.messenger.shown if v.job_id == view.job_id] == [JobState.FAILED]
