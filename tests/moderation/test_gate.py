"""The image safety gate and channel ratings in core: the real engine, store and simulator on virtual time,
with the test classifier that flags the simulator's marked pictures (tests/fakes/safety.py)."""

from __future__ import annotations

import dataclasses

import pytest

from core.commands.types import AdminRating
from core.errors import ImageFlagged, InvalidParameter, NotAllowed, NotFoundError
from core.moderation.gate import WITHHELD_CHARGED, WITHHELD_REFUNDED, GateConfig
from core.moderation.ratings import SAFETY_NEGATIVE
from core.store.modlog import ModLog
from core.types import Actor, JobState, Place
from tests.engine.conftest import Harness, engine_config, harness  # noqa: F401
from tests.fakes.safety import FLAG_WORD, MarkClassifier

ADMIN = Actor("console", "root", "root", is_admin=True)
PLACE = Place("console", "g1", "chat-g1")


async def _run(h: Harness, prompt: str, *, n: int = 2, place: Place = PLACE, neg: str | None = None) -> str:
    assert h.service is not None
    request = dataclasses.replace(h.request(n=n), prompt=prompt, place=place, negative=neg)
    view = await h.service.submit(request)
    await h.run_until_state(view.job_id, JobState.DELIVERED, JobState.WITHHELD, JobState.FAILED)
    return view.job_id


async def _events(h: Harness, scope: str = "g1") -> list:
    """The gate's own lines in the admins' log (rating changes are logged too, see test_rating_rules)."""
    return await ModLog(h.store).events(scope_id=scope, kinds=("image_withheld", "image_spoilered"))


async def test_sfw_flagged_result_is_withheld_refunded_and_logged(harness: Harness) -> None:  # noqa: F811
    classifier = MarkClassifier()
    await harness.start_engine(classifier=classifier)
    job_id = await _run(harness, f"{FLAG_WORD} on a beach")
    job = await harness.store.get_job(job_id)
    assert job is not None and job.state == JobState.WITHHELD and job.rating == "sfw"
    assert harness.messenger.delivered == []  # nothing reached the platform
    final = harness.messenger.shown[-1][1]
    assert final.state == JobState.WITHHELD and final.error == WITHHELD_REFUNDED and final.outputs == ()
    assert classifier.seen == [0.99, 0.99]
    quota = await harness.store.quota(platform="console", user_id="alice", scope_id="g1")
    assert quota.used_today == 0 and quota.held == 0
    assert await harness.store.audit() == []
    [event] = await _events(harness)
    assert (event.kind, event.job_id, event.user_id) == ("image_withheld", job_id, "alice")
    assert "refunded" in event.detail and FLAG_WORD not in event.detail  # never the prompt
    with pytest.raises(NotFoundError):  # the held-back images can't be fetched another way
        await harness.service.outputs(Actor("console", "alice"), PLACE, job_id)  # type: ignore[union-attr]


async def test_operator_may_keep_the_units_of_a_withheld_job(harness: Harness) -> None:  # noqa: F811
    await harness.start_engine(classifier=MarkClassifier(), gate=GateConfig(refund=False))
    job_id = await _run(harness, f"{FLAG_WORD} at night")
    assert await harness.state(job_id) == JobState.WITHHELD
    assert harness.messenger.shown[-1][1].error == WITHHELD_CHARGED
    quota = await harness.store.quota(platform="console", user_id="alice", scope_id="g1")
    assert quota.used_today == 2
    assert (await harness.store.ledger_totals())["capture"] == 2
    assert await harness.store.audit() == []


async def test_spoiler_choice_posts_flagged_images_behind_a_cover(harness: Harness) -> None:  # noqa: F811
    service = await harness.start_engine(classifier=MarkClassifier())
    shown = await service.rating(ADMIN, PLACE, AdminRating(flagged="spoiler"))
    assert (shown.rating, shown.flagged, shown.gate) == ("sfw", "spoiler", "")
    job_id = await _run(harness, f"{FLAG_WORD} in a park")
    assert await harness.state(job_id) == JobState.DELIVERED
    [(_, _, images)] = harness.messenger.delivered
    assert [image.spoiler for image in images] == [True, True]
    [event] = await _events(harness)
    assert event.kind == "image_spoilered" and event.job_id == job_id
    alice = Actor("console", "alice")
    with pytest.raises(ImageFlagged):  # a file or a character's picture can't carry the cover
        await service.outputs(alice, PLACE, job_id)
    with pytest.raises(ImageFlagged):
        await service.save_character_from_job(alice, PLACE, job_id=job_id, name="Kept", consent=True)
    assert await service.book.list(scope_id="g1") == []


async def test_clean_results_pass_and_nsfw_places_are_not_gated(harness: Harness) -> None:  # noqa: F811
    classifier = MarkClassifier()
    service = await harness.start_engine(classifier=classifier)
    clean = await _run(harness, "on a beach", n=1)
    assert await harness.state(clean) == JobState.DELIVERED and classifier.seen == [0.01]
    await service.rating(ADMIN, PLACE, AdminRating(rating="nsfw"))
    flagged = await _run(harness, f"{FLAG_WORD} on a beach", n=1)
    job = await harness.store.get_job(flagged)
    assert job is not None and job.state == JobState.DELIVERED and job.rating == "nsfw"
    assert classifier.seen == [0.01]  # not even looked at
    assert not any(image.spoiler for _, _, images in harness.messenger.delivered for image in images)
    assert await _events(harness) == []


async def test_the_job_keeps_the_rating_it_was_asked_under(harness: Harness) -> None:  # noqa: F811
    service = await harness.start_engine(classifier=MarkClassifier())
    await service.rating(ADMIN, PLACE, AdminRating(rating="nsfw"))
    request = dataclasses.replace(harness.request(n=1), prompt=f"{FLAG_WORD} late")
    view = await service.submit(request)
    await harness.stop_engine()  # a restart between the ask and the delivery, and the place turned SFW meanwhile
    await service.rating(ADMIN, PLACE, AdminRating(rating="sfw"))
    await harness.start_engine(classifier=MarkClassifier())
    await harness.run_until_state(view.job_id, JobState.DELIVERED, JobState.WITHHELD)
    assert await harness.state(view.job_id) == JobState.DELIVERED


async def test_sfw_jobs_carry_the_safety_negative_after_the_users_own(harness: Harness) -> None:  # noqa: F811
    service = await harness.start_engine()
    sfw = await _run(harness, "a portrait", n=1, neg="blurry")
    await service.rating(ADMIN, PLACE, AdminRating(rating="nsfw"))
    nsfw = await _run(harness, "a portrait", n=1, neg="blurry")
    sfw_job, nsfw_job = await harness.store.get_job(sfw), await harness.store.get_job(nsfw)
    assert sfw_job is not None and nsfw_job is not None
    assert sfw_job.payload["negative_prompt"] == f"blurry, {SAFETY_NEGATIVE}"
    assert nsfw_job.payload["negative_prompt"] == "blurry"
    again = await service.reroll(Actor("console", "alice"), PLACE, sfw, same_seed=True, idem_key="again",
                                 reply_ref="r")  # re-rolled here now: it runs under today's NSFW rating
    rerolled = await harness.store.get_job(again.job_id)
    assert rerolled is not None and rerolled.rating == "nsfw"
    await service.rating(ADMIN, PLACE, AdminRating(rating="sfw"))
    twice = await service.reroll(Actor("console", "alice"), PLACE, sfw, same_seed=True, idem_key="twice",
                                 reply_ref="r2")
    rerolled = await harness.store.get_job(twice.job_id)
    assert rerolled is not None and rerolled.payload["negative_prompt"] == f"blurry, {SAFETY_NEGATIVE}"  # once


class BrokenClassifier(MarkClassifier):
    def classify(self, data: bytes):  # type: ignore[no-untyped-def]
        raise RuntimeError("model file damaged")


async def test_an_image_the_classifier_cannot_read_is_held_back(harness: Harness) -> None:  # noqa: F811
    await harness.start_engine(classifier=BrokenClassifier())
    job_id = await _run(harness, "harmless", n=1)
    assert await harness.state(job_id) == JobState.WITHHELD
    [event] = await _events(harness)
    assert "unreadable" in event.detail


async def test_rating_rules(harness: Harness) -> None:  # noqa: F811
    service = await harness.start_engine()
    member = Actor("console", "bob", "bob")
    with pytest.raises(NotAllowed):
        await service.rating(member, PLACE, AdminRating(rating="nsfw"))
    shown = await service.rating(member, PLACE, AdminRating())  # anyone may look
    assert (shown.rating, shown.changed) == ("sfw", False) and "off" in shown.lines()[1]
    with pytest.raises(InvalidParameter):
        await service.rating(ADMIN, PLACE, AdminRating(rating="spicy"))
    # A channel the platform rates SFW (Discord without the NSFW flag) can't be lifted from castbot's side;
    # an NSFW channel can be narrowed to SFW.
    discord_sfw = Place("discord", "guild", "chan-1", nsfw=False)
    discord_nsfw = Place("discord", "guild", "chan-2", nsfw=True)
    with pytest.raises(InvalidParameter):
        await service.rating(ADMIN, discord_sfw, AdminRating(rating="nsfw"))
    assert (await service.ratings.rating(discord_nsfw)).value == "nsfw"
    await service.rating(ADMIN, discord_nsfw, AdminRating(rating="sfw"))
    assert (await service.ratings.rating(discord_nsfw)).value == "sfw"
    changes = await ModLog(harness.store).events(scope_id="guild")
    assert [(e.kind, e.actor_id, e.detail) for e in changes] == [("rating_set", "root", "chat chan-2 rated sfw")]
