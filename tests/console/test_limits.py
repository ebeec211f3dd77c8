"""The operator's limits through the console adapter (issue 13): an unlisted community is refused once and then
hears nothing; one person's cap spans their DM and the communities they use; an operator id is an admin."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from adapters.console.messenger import ConsoleMessenger
from adapters.console.session import ConsoleSession
from bot.app import App, build_app
from bot.settings import Settings
from core.commands import answers as a
from core.errors import NotAllowed, PersonalCapReached
from core.simulator.server import SimConfig
from core.types import Actor, Place
from tests.conformance.script import ASSETS
from tests.fakes.clock import FakeClock

LISTED = ("one", "two")


@pytest.fixture
async def app(tmp_path: Path) -> AsyncIterator[App]:
    settings = Settings(_env_file=None, CASTBOT_DATA_DIR=tmp_path / "data", SEGMIND_API_KEY=None,  # type: ignore[call-arg]
                        CASTBOT_DAILY_UNITS=40, CASTBOT_PERSON_DAILY_UNITS=3, CASTBOT_OPERATORS="console:boss",
                        CASTBOT_ALLOWED_PLACES=",".join(f"console:{s}" for s in LISTED))
    async with build_app(settings, clock=FakeClock(), simulator_config=SimConfig(median_seconds=20.0)) as built:
        yield built


def session(app: App, tmp_path: Path, user: str, scope: str) -> tuple[ConsoleSession, io.StringIO]:
    out = io.StringIO()
    messenger = ConsoleMessenger(tmp_path / "out", stream=out, live=False)
    identity = (Actor("console", user, user), Place("console", scope, scope))
    return ConsoleSession(app.service, messenger, follow_jobs=False, identity=identity), out


async def test_an_unlisted_community_is_refused_once_then_hears_nothing(app: App, tmp_path: Path) -> None:
    there, out = session(app, tmp_path, "ada", "console:elsewhere")
    await there.handle("/quota")
    assert isinstance(there.last_error, NotAllowed) and "This bot is private" in out.getvalue()
    told = out.getvalue()
    for line in ("/help", "/quota", "/admin stats"):
        await there.handle(line)
        assert isinstance(there.last_answer, a.Ignored) and there.last_error is None
    assert out.getvalue() == told
    listed, _ = session(app, tmp_path, "ada", LISTED[0])
    await listed.handle("/quota")
    assert isinstance(listed.last_answer, a.QuotaShown)


async def test_one_persons_cap_spans_communities_and_the_dm(app: App, tmp_path: Path) -> None:
    image = f'--image "{ASSETS["character"]}"'

    async def imagine(scope: str, n: int, user: str = "ada") -> ConsoleSession:
        where, _ = session(app, tmp_path, user, scope)
        await where.handle(f"/imagine --n {n} on a beach {image}")
        return where

    assert isinstance((await imagine(LISTED[0], 2)).last_answer, a.JobAccepted)
    refused = await imagine(LISTED[1], 2)
    assert isinstance(refused.last_error, PersonalCapReached)
    assert isinstance((await imagine("dm:ada", 1)).last_answer, a.JobAccepted)
    assert isinstance((await imagine(LISTED[1], 1)).last_error, PersonalCapReached)
    # The operator is not held to the personal cap, and is an admin in every community.
    assert isinstance((await imagine(LISTED[1], 4, user="boss")).last_answer, a.JobAccepted)
    boss, _ = session(app, tmp_path, "boss", LISTED[1])
    await boss.handle("/admin stats")
    assert isinstance(boss.last_answer, a.Stats)
    member, _ = session(app, tmp_path, "ada", LISTED[1])
    await member.handle("/admin stats")
    assert isinstance(member.last_error, NotAllowed)
