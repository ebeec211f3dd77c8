"""Gateway and REST plumbing: login, READY, command sync only when changed, defer + edit, RESUME."""

from __future__ import annotations

from adapters.discord.adapter import DiscordAdapter
from tests.discord.conftest import DiscordWorld, make_adapter, option
from tests.fakes.discord_server import APP_ID, FakeDiscord


async def test_start_logs_in_and_syncs_every_command_once(bare: DiscordWorld) -> None:
    dc = bare.dc
    assert dc.identifies == 1
    assert [c.method for c in dc.find("GET", "/users/@me")] == ["GET"]
    puts = dc.find("PUT", f"/applications/{APP_ID}/commands")
    assert len(puts) == 1
    names = sorted(c["name"] for c in puts[0].json)
    assert names == ["admin", "cancel", "character", "forget_me", "help", "history", "imagine", "pose", "quota",
                     "scene", "sheet"]
    imagine = next(c for c in puts[0].json if c["name"] == "imagine")
    count = next(o for o in imagine["options"] if o["name"] == "count")
    assert (count["min_value"], count["max_value"]) == (1, 20)  # the catalog's number_of_outputs range
    model = next(o for o in imagine["options"] if o["name"] == "model")
    assert [c["value"] for c in model["choices"]] == ["poses", "illustration"]
    admin = next(c for c in puts[0].json if c["name"] == "admin")
    assert str(admin["default_member_permissions"]) == "32"  # Manage Server


async def test_restart_with_same_commands_does_not_sync_again(bare: DiscordWorld) -> None:
    second: DiscordAdapter = make_adapter(bare.app, bare.dc, bare.clock)
    await second.start()
    try:
        assert second.synced is False
        assert len(bare.dc.find("PUT", "/commands")) == 1
    finally:
        await second.stop()


async def test_dev_guild_sync_goes_to_that_guild(bare: DiscordWorld) -> None:
    second = make_adapter(bare.app, bare.dc, bare.clock, guild_id=4242)
    await second.start()
    try:
        assert second.synced
        assert bare.dc.find("PUT", f"/applications/{APP_ID}/guilds/4242/commands")
    finally:
        await second.stop()


async def test_help_is_deferred_then_edited(bare: DiscordWorld) -> None:
    dc = bare.dc
    sent = await dc.slash("help", [option("command", "imagine")])
    callback = await dc.wait_call("POST", f"/interactions/{sent['id']}/")
    assert callback.json["type"] == 5 and callback.json["data"]["flags"] == 64  # deferred, private
    assert callback.query.get("with_response") in ("1", "true", "True")
    edit = await dc.wait_call("POST", f"/webhooks/{APP_ID}/{sent['token']}")  # the follow-up replaces "thinking"
    assert "`count`: how many images — 1 to 20" in edit.json["content"] and "illustration" in edit.json["content"]
    assert edit.json["allowed_mentions"] == {"parse": []}
    assert edit.at >= callback.at


async def test_dropped_gateway_resumes_and_replays_interactions(bare: DiscordWorld, dc: FakeDiscord) -> None:
    await dc.drop_gateway()
    sent = await dc.slash("help")  # dispatched while the bot is away: replayed on RESUME
    await dc.wait_call("POST", f"/webhooks/{APP_ID}/{sent['token']}")
    assert dc.resumes == 1 and dc.identifies == 1


async def test_a_rejected_token_fails_start_without_showing_the_token(dc: FakeDiscord) -> None:
    import discord
    import pytest

    from tests.discord.conftest import Plumbing
    from tests.fakes.clock import FakeClock

    dc.token = "the-right-token"
    adapter = make_adapter(Plumbing(), dc, FakeClock())  # carries the test token, not the right one
    with dc.expect_refusal(0), pytest.raises(discord.LoginFailure) as failure:  # 401: Unauthorized
        await adapter.start()
    await adapter.stop()
    assert "discord-test-token" not in str(failure.value)
    assert dc.identifies == 0
