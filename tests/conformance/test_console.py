"""The conformance script through the console adapter, on the real app, store, engine and simulator."""

from __future__ import annotations

import dataclasses
import io

import pytest

from adapters.console.messenger import ConsoleMessenger
from bot.app import build_app
from core.commands import types as c
from core.commands.answers import CharacterSaved, ConsentNeeded
from core.commands.router import CommandRouter
from core.commands.types import CharacterSave, ImageSource
from core.errors import NotAllowed
from core.simulator.server import SimConfig
from core.types import Actor, Place
from tests.conformance.console_runner import ConsoleRunner
from tests.conformance.harness import MISJUDGED, MISJUDGED_PROBLEMS, play
from tests.conformance.script import ASSETS, CHAR, FLOOD, FLOOD_BURST, FLOOD_PER_MINUTE, Expect, Settle, Step
from tests.console.conftest import console_settings
from tests.fakes.clock import FakeClock


async def test_console_conforms(tmp_path):
    clock = FakeClock()
    async with build_app(console_settings(tmp_path / "data"), clock=clock,
                         simulator_config=SimConfig(median_seconds=20.0, cv=0.1)) as app:
        messenger = ConsoleMessenger(tmp_path / "out", stream=io.StringIO(), live=False)
        problems = await play(ConsoleRunner(app, clock, messenger), app.store)
    assert problems == []


async def test_console_floods_conform(tmp_path):
    clock = FakeClock()
    settings = console_settings(tmp_path / "data").model_copy(
        update={"command_burst": FLOOD_BURST, "command_rate": FLOOD_PER_MINUTE})
    async with build_app(settings, clock=clock, simulator_config=SimConfig(median_seconds=20.0, cv=0.1)) as app:
        out = io.StringIO()
        messenger = ConsoleMessenger(tmp_path / "out", stream=out, live=False)
        problems = await play(ConsoleRunner(app, clock, messenger), app.store, FLOOD)
    assert problems == []
    assert out.getvalue().count("Slow down") == 2  # once per window; the throttled lines printed nothing


async def test_the_harness_reports_outcomes_that_differ(tmp_path):
    """The comparison can fail: wrong expectations about jobs, refusals, characters and bans are each reported."""
    clock = FakeClock()
    async with build_app(console_settings(tmp_path / "data"), clock=clock) as app:
        messenger = ConsoleMessenger(tmp_path / "out", stream=io.StringIO(), live=False)
        problems = await play(ConsoleRunner(app, clock, messenger), app.store, MISJUDGED)
    assert [p.split(": ", 1)[1] for p in problems] == MISJUDGED_PROBLEMS


async def test_only_the_saver_may_confirm_a_pending_save(tmp_path):
    """A consent button pressed by someone else stores nothing; the saver's own press stores the character."""
    async with build_app(console_settings(tmp_path / "data"), clock=FakeClock()) as app:
        router = CommandRouter(app.service)
        place = Place("console", "console:community", "console:community")
        saver, other = Actor("console", "saver", "saver"), Actor("console", "other", "other")
        source = ImageSource(ASSETS["character"], filename="c.png")

        async def fetch(src: ImageSource) -> bytes:
            return src.handle.read_bytes()

        pending = CharacterSave("Luna")
        assert isinstance(await router.handle(saver, place, pending, sources=(source,), fetch=fetch), ConsentNeeded)
        confirm = dataclasses.replace(pending, consent=True)
        with pytest.raises(NotAllowed):
            await router.handle(saver, place, confirm, sources=(source,), fetch=fetch, confirmed_by=other)
        assert await app.store.fetch_all("SELECT name FROM characters") == []
        saved = await router.handle(saver, place, confirm, sources=(source,), fetch=fetch, confirmed_by=saver)
        assert isinstance(saved, CharacterSaved) and saved.view.owner_id == "saver"


async def test_the_harness_reports_wrong_audit_outcomes(tmp_path):
    """Report counts, what a log showed, and a removal's traces are each compared, and can each be wrong."""
    wrong = (
        Step("owner", "/character save Nova --consent", images=CHAR),
        Step("owner", "/imagine --char Nova a knight", label="j", expect=Expect(job=True, units=1)),
        Settle(),
        Step("other", command=c.Report(""), job="j", expect=Expect(events={"report": 2}, answer="reported")),
        Step("admin", "/admin log", expect=Expect(answer="log_page", log=2)),
        Step("admin", command=c.Report(""), job="j", expect=Expect(removed=True, answer="reported")),
    )
    clock = FakeClock()
    async with build_app(console_settings(tmp_path / "data"), clock=clock) as app:
        messenger = ConsoleMessenger(tmp_path / "out", stream=io.StringIO(), live=False)
        problems = await play(ConsoleRunner(app, clock, messenger), app.store, wrong)
    found = [p.split(": ", 1)[1] for p in problems]
    assert found[0] == "1 report event(s), expected 2"
    assert found[1].startswith("log showed (") and "expected the newest 2+" in found[1]
    assert found[2].startswith("job ") and "not removed" in found[2]
    assert len(found) == 3
