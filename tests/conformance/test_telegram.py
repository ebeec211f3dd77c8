"""The conformance script through the real PTB adapter and a fake Bot API, on the real app, store and simulator."""

from __future__ import annotations

from tests.conformance.harness import MISJUDGED, MISJUDGED_PROBLEMS, play
from tests.conformance.script import Expect, Step
from tests.conformance.telegram_runner import TelegramRunner
from tests.telegram.conftest import telegram_world


async def test_telegram_conforms(tmp_path):
    async with telegram_world(tmp_path / "data") as world:
        problems = await play(TelegramRunner(world), world.app.store)
    assert problems == []


async def test_the_telegram_runner_reports_outcomes_that_differ(tmp_path):
    """The runner's observations can disagree: wrong expectations are each reported, as for the console."""
    wrong = (*MISJUDGED, Step("admin", "/admin ban @nobody_here", expect=Expect(answer="ban_changed")))
    async with telegram_world(tmp_path / "data") as world:
        problems = await play(TelegramRunner(world), world.app.store, wrong)
    assert [p.split(": ", 1)[1] for p in problems] == [
        *MISJUDGED_PROBLEMS, "refusal 'unknown_user', expected None", "answer None, expected 'ban_changed'"]
