"""The router on the real app: nothing is downloaded before the precheck passes; admin users; pages."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.app import App, build_app
from core.commands import answers as a
from core.commands import types as c
from core.commands.router import CommandRouter
from core.errors import OptionOutOfRange, UnknownOption, UnknownUser, Usage
from core.image_errors import ImageTooBig, MissingImage
from core.images import MAX_INPUT_BYTES
from core.store.sqlite import NewJob
from core.types import Actor, ImageRole, Place
from tests.conformance.script import ASSETS
from tests.console.conftest import console_settings
from tests.fakes.clock import FakeClock

PLACE = Place("console", "s1", "s1")
MEMBER = Actor("console", "member", "member")
ADMIN = Actor("console", "boss", "boss", is_admin=True)


class CountingFetch:
    def __init__(self) -> None:
        self.fetched: list[str] = []

    async def __call__(self, source: c.ImageSource) -> bytes:
        self.fetched.append(source.filename)
        return ASSETS[source.handle].read_bytes()


@pytest.fixture
async def app(tmp_path) -> AsyncIterator[App]:
    async with build_app(console_settings(tmp_path / "data"), clock=FakeClock()) as built:
        yield built


def source(asset: str, role: ImageRole | None = None, size: int | None = 1000) -> c.ImageSource:
    return c.ImageSource(asset, role=role, filename=f"{asset}.png", size=size)


@pytest.mark.parametrize(
    ("command", "sources", "error"),
    [
        (c.Generate("imagine", options={"bogus": "1"}), (source("character"),), UnknownOption),
        (c.Generate("imagine", options={"n": "21"}), (source("character"),), OptionOutOfRange),
        (c.Generate("pose", prompt="dancing"), (source("character"),), MissingImage),
        (c.Generate("imagine"), (source("character", size=MAX_INPUT_BYTES + 1),), ImageTooBig),
        (c.CharacterSave("Luna", consent=True), (source("character", size=MAX_INPUT_BYTES + 1),), ImageTooBig),
    ],
)
async def test_nothing_is_downloaded_or_written_before_the_precheck_passes(app, command, sources, error):
    fetch = CountingFetch()
    with pytest.raises(error):
        await CommandRouter(app.service).handle(MEMBER, PLACE, command, sources=sources, fetch=fetch)
    assert fetch.fetched == []
    assert await app.store.fetch_all("SELECT job_id FROM jobs") == []


async def test_a_consent_prompt_downloads_nothing_and_a_job_downloads_each_slot_once(app):
    fetch, router = CountingFetch(), CommandRouter(app.service)
    asked = await router.handle(MEMBER, PLACE, c.CharacterSave("Luna"), sources=(source("character"),), fetch=fetch)
    assert isinstance(asked, a.ConsentNeeded) and fetch.fetched == []
    accepted = await router.handle(MEMBER, PLACE, c.Generate("scene", prompt="x"), fetch=fetch, event_id="e1",
                                   sources=(source("scene", ImageRole.SCENE), source("character")))
    assert isinstance(accepted, a.JobAccepted) and accepted.view.cost == 2
    assert fetch.fetched == ["character.png", "scene.png"]
    again = await router.handle(MEMBER, PLACE, c.Generate("scene", prompt="x"), fetch=fetch, event_id="e1",
                                sources=(source("scene", ImageRole.SCENE), source("character")))
    assert again.view.job_id == accepted.view.job_id  # a replayed event is the same job, charged once


async def test_admin_quota_names_users_only_by_resolved_ids(app):
    router = CommandRouter(app.service)
    with pytest.raises(UnknownUser) as unknown:
        await router.handle(ADMIN, PLACE, c.AdminQuota(user=c.UserRef(None, "@bob")))
    assert unknown.value.text == "@bob"
    with pytest.raises(UnknownUser):
        await router.handle(ADMIN, PLACE, c.AdminBan(c.UserRef()))
    shown = await router.handle(ADMIN, PLACE, c.AdminQuota(user=c.UserRef("42", "42")))
    assert isinstance(shown, a.QuotaShown) and shown.user_id == "42" and shown.quota.daily_units == 40
    with pytest.raises(Usage):
        await router.handle(ADMIN, PLACE, c.AdminQuota(daily=5, user=c.UserRef("42", "42")))
    updated = await router.handle(ADMIN, PLACE, c.AdminQuota(daily=5))
    assert isinstance(updated, a.PolicyUpdated) and updated.daily_units == 5
    assert (await app.store.policy("s1")).daily_units == 5


async def test_pages_never_cut_a_list(app):
    router = CommandRouter(app.service, page_size=2)
    fetch = CountingFetch()
    for name in ("Ann", "Bea", "Cat", "Dot", "Eve"):
        await router.handle(MEMBER, PLACE, c.CharacterSave(name, consent=True), sources=(source("character"),),
                            fetch=fetch)
    pages = [await router.handle(MEMBER, PLACE, c.CharacterList(page=n)) for n in (1, 2, 3, 4)]
    assert [[ch.name for ch in p.characters] for p in pages] == [["Ann", "Bea"], ["Cat", "Dot"], ["Eve"], []]
    assert [p.has_more for p in pages] == [True, True, False, False]


async def test_history_pages_go_past_a_hundred_jobs(app):
    router = CommandRouter(app.service, page_size=10)
    await app.store.grant(scope_id="s1", platform="console", user_id="member", units=500)
    for i in range(125):
        await app.store.create_job(NewJob(
            idem_key=f"h{i}", platform="console", user_id="member", user_name="member", scope_id="s1",
            chat_id="s1", model="poses", prompt=f"prompt {i}", payload={}, inputs={}, cost=1, reply_ref=""))
        await app.clock.advance(1)
    pages = [await router.handle(MEMBER, PLACE, c.History(page=n)) for n in (1, 11, 13, 14)]
    assert [[v.prompt for v in p.jobs][:2] for p in pages] == [
        ["prompt 124", "prompt 123"], ["prompt 24", "prompt 23"], ["prompt 4", "prompt 3"], []]
    assert [len(p.jobs) for p in pages] == [10, 10, 5, 0]
    assert [p.has_more for p in pages] == [True, True, False, False]
