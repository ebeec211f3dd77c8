"""Re-rolling a job whose saved character was deleted says so, instead of failing at Segmind."""

from __future__ import annotations

import dataclasses

import pytest

from core.errors import NotFoundError
from core.types import JobState
from tests.engine.conftest import ASSETS, Harness


async def test_reroll_after_the_character_was_deleted_is_refused_clearly(harness: Harness) -> None:
    service = await harness.start_engine()
    first = harness.request(images=())
    await service.save_character(first.actor, first.place, name="Luna", consent=True,
                                 image=(ASSETS / "sample_character.png").read_bytes())
    view = await service.submit(dataclasses.replace(harness.request(images=()), character_name="luna"))
    await harness.run_until_state(view.job_id, JobState.DELIVERED)
    await service.delete_character(first.actor, first.place, "Luna")
    jobs_before = len(await harness.store.history(scope_id=first.place.scope_id, user_id=first.actor.user_id,
                                                  platform=first.actor.platform, limit=50))

    for same_seed in (False, True):
        with pytest.raises(NotFoundError, match="has been deleted") as info:
            await service.reroll(first.actor, first.place, view.job_id, same_seed=same_seed,
                                 idem_key=f"reroll-{same_seed}", reply_ref="ref-reroll")
        assert "Save the character again" in str(info.value)
    history = await harness.store.history(scope_id=first.place.scope_id, user_id=first.actor.user_id,
                                          platform=first.actor.platform, limit=50)
    assert len(history) == jobs_before  # nothing was charged or queued


async def test_reroll_with_the_character_still_saved_works(harness: Harness) -> None:
    service = await harness.start_engine()
    first = harness.request(images=())
    await service.save_character(first.actor, first.place, name="Luna", consent=True,
                                 image=(ASSETS / "sample_character.png").read_bytes())
    view = await service.submit(dataclasses.replace(harness.request(images=()), character_name="luna"))
    await harness.run_until_state(view.job_id, JobState.DELIVERED)
    again = await service.reroll(first.actor, first.place, view.job_id, same_seed=False, idem_key="r1",
                                 reply_ref="ref-r1")
    await harness.run_until_state(again.job_id, JobState.DELIVERED)
