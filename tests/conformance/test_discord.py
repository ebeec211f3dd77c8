"""The conformance script through the real discord.py client and the Discord adapter, against the fake Discord."""

from __future__ import annotations

from bot.app import build_app
from core.simulator.server import SimConfig
from tests.conformance.discord_runner import DiscordRunner, discord_script
from tests.conformance.harness import MISJUDGED, MISJUDGED_PROBLEMS, play
from tests.conformance.script import FLOOD, FLOOD_BURST, FLOOD_PER_MINUTE, SCRIPT
from tests.discord.conftest import TOKEN, DiscordWorld, castbot_settings, make_adapter
from tests.fakes.clock import FakeClock
from tests.fakes.discord_server import FakeDiscord


async def _play(tmp_path, script, **limits) -> list[str]:
    problems, _ = await _played(tmp_path, script, **limits)
    return problems


async def _played(tmp_path, script, **limits) -> tuple[list[str], FakeDiscord]:
    clock = FakeClock()
    dc = await FakeDiscord().start()
    dc.token = TOKEN
    dc.clock = clock.now
    try:
        async with build_app(castbot_settings(tmp_path / "data").model_copy(update=limits), clock=clock,
                             simulator_config=SimConfig(median_seconds=20.0, cv=0.1)) as app:
            adapter = make_adapter(app, dc, clock)
            await adapter.start()
            try:
                problems = await play(DiscordRunner(DiscordWorld(clock, dc, app, adapter)), app.store, script)
            finally:
                await adapter.stop()
    finally:
        await dc.close()
    dc.ledger.assert_clean()  # nothing castbot sent was refused by Discord's rules, and nobody was pinged
    return problems, dc


async def test_discord_conforms(tmp_path):
    script = discord_script(SCRIPT)
    assert len(script) < len(SCRIPT)  # only the Originals presses are left out (no such button here)
    assert await _play(tmp_path, script) == []


async def test_the_discord_runner_reports_outcomes_that_differ(tmp_path):
    """The same wrong expectations as the console's harness test fail the same way through Discord."""
    problems = await _play(tmp_path, MISJUDGED)
    assert [p.split(": ", 1)[1] for p in problems] == MISJUDGED_PROBLEMS


async def test_discord_floods_conform(tmp_path):
    """The rate limit's script. Discord must answer every interaction, so each refused one (the two "slow down"s and
    the two throttled ones after the first) is answered — privately, so the channel sees none of it."""
    problems, dc = await _played(tmp_path, FLOOD, command_burst=FLOOD_BURST, command_rate=FLOOD_PER_MINUTE)
    assert problems == []
    said = [c for c in dc.find("POST", "/webhooks/") if str((c.json or {}).get("content", "")).startswith("Slow")]
    assert len(said) == 4
    assert all(int(c.json.get("flags") or 0) & 64 for c in said), "ephemeral"
