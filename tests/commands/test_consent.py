"""Consent is a state: a face becomes a character only after its saver's explicit confirmation, recorded.

Saving from a job's result is the way round the confirmation the issue found: a job made from a raw photo,
or from a character since deleted, gives that face back. Both must answer ConsentNeeded and store nothing.
"""

from __future__ import annotations

import dataclasses

from core.commands import answers as a
from core.commands import types as c
from core.commands.router import CommandRouter
from core.service import CastService
from core.types import Actor, JobState
from tests.engine.conftest import ASSETS, Harness, engine_config, harness  # noqa: F401

PHOTO = (ASSETS / "sample_character.png").read_bytes()


async def _start(h: Harness) -> tuple[CastService, CommandRouter, Actor]:
    service = await h.start_engine()
    return service, CommandRouter(service), h.request().actor


async def _consent_rows(h: Harness) -> list[tuple]:
    return await h.store.fetch_all("SELECT name, owner_id, consent_by, consent_how, consent_at FROM characters "
                                   "ORDER BY name")


async def _job(h: Harness, service: CastService, user: str = "alice", **changes: object) -> str:
    view = await service.submit(dataclasses.replace(h.request(user), **changes))
    await h.run_until_state(view.job_id, JobState.DELIVERED)
    return view.job_id


async def test_saving_from_a_raw_photo_job_asks_for_consent_then_records_the_press(harness: Harness) -> None:  # noqa: F811
    service, router, alice = await _start(harness)
    place = harness.request().place
    job_id = await _job(harness, service)  # /imagine with a raw photo: nobody confirmed anything

    answer = await router.handle(alice, place, c.SaveFromJob(job_id, name="Raw"))
    assert answer == a.ConsentNeeded("Raw", "", job_id=job_id)
    assert await _consent_rows(harness) == []

    confirmed = await router.handle(alice, place, c.SaveFromJob(job_id, name="Raw", consent=True),
                                    confirmed_by=alice)
    assert isinstance(confirmed, a.CharacterSaved)
    assert [row[:4] for row in await _consent_rows(harness)] == [("Raw", "alice", "alice", "button")]


async def test_a_deleted_characters_face_needs_a_fresh_confirmation(harness: Harness) -> None:  # noqa: F811
    service, router, alice = await _start(harness)
    place = harness.request().place
    await service.save_character(alice, place, name="Luna", image=PHOTO, consent=True)
    job_id = await _job(harness, service, images=(), character_name="Luna")
    await service.delete_character(alice, place, "Luna")

    answer = await router.handle(alice, place, c.SaveFromJob(job_id, name="Back"))
    assert isinstance(answer, a.ConsentNeeded)
    assert await _consent_rows(harness) == []

    again = await router.handle(alice, place, c.SaveFromJob(job_id, name="Back", consent=True))  # --consent
    assert isinstance(again, a.CharacterSaved)
    assert [row[:4] for row in await _consent_rows(harness)] == [("Back", "alice", "alice", "flag")]


async def test_own_saved_character_carries_its_consent_to_a_result(harness: Harness) -> None:  # noqa: F811
    service, router, alice = await _start(harness)
    place = harness.request().place
    await service.save_character(alice, place, name="Luna", image=PHOTO, consent=True)
    job_id = await _job(harness, service, images=(), character_name="Luna")

    answer = await router.handle(alice, place, c.SaveFromJob(job_id, name="Luna Two"))
    assert isinstance(answer, a.CharacterSaved)
    rows = {row[0]: row[1:4] for row in await _consent_rows(harness)}
    assert rows == {"Luna": ("alice", "alice", "flag"), "Luna Two": ("alice", "alice", "character")}


async def test_someone_elses_character_is_not_the_savers_consent(harness: Harness) -> None:  # noqa: F811
    service, router, alice = await _start(harness)
    place = harness.request().place
    await service.save_character(alice, place, name="Luna", image=PHOTO, consent=True)
    bob = harness.request("bob").actor
    job_id = await _job(harness, service, "bob", images=(), character_name="Luna")

    answer = await router.handle(bob, place, c.SaveFromJob(job_id, name="Copy"))
    assert isinstance(answer, a.ConsentNeeded)
    assert [row[0] for row in await _consent_rows(harness)] == ["Luna"]
