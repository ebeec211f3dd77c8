"""The conformance script through the real PTB adapter and a fake Bot API, on the real app, store and simulator."""

from __future__ import annotations

from tests.conformance.harness import MISJUDGED, MISJUDGED_PROBLEMS, play
from tests.conformance.script import FLOOD, FLOOD_BURST, FLOOD_PER_MINUTE, Expect, Step
from tests.conformance.telegram_runner import GROUP, TelegramRunner
from tests.telegram.conftest import castbot_settings, telegram_world


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


async def test_telegram_floods_conform(tmp_path):
    """The rate limit's script; the flooder was told "Slow down" once per window and nothing else."""
    settings = castbot_settings(tmp_path / "data").model_copy(
        update={"command_burst": FLOOD_BURST, "command_rate": FLOOD_PER_MINUTE})
    async with telegram_world(tmp_path / "data", settings) as world:
        problems = await play(TelegramRunner(world), world.app.store, FLOOD)
        await world.until(lambda: world.adapter.messenger.idle, what="every answer sent")
        said = [t for t in world.texts(GROUP) if t.startswith("Slow down")]
        alerts = [c.params for c in world.tg.calls_to("answerCallbackQuery") if "Slow down" in str(c.params)]
    assert problems == []
    # once per window: the first refusal was a button press (an alert), the second a typed /quota (a message)
    assert len(alerts) == 1 and alerts[0].get("show_alert") is True
    assert len(said) == 1, said
