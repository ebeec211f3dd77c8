"""Typed answers on Discord: the consent button re-runs the same save, /admin quota's typed options, paging."""

from __future__ import annotations

from tests.discord.conftest import DiscordWorld, option, photo, sub
from tests.discord.test_commands import MANAGE_GUILD, answer
from tests.discord.test_e2e import GUILD, OTHER, USER
from tests.fakes.discord_server import APP_ID, user_payload


async def names(w: DiscordWorld) -> list[str]:
    return [c.name for c in await w.app.service.book.list(scope_id=str(GUILD))]


async def test_save_without_consent_stores_nothing_until_the_button_confirms(world: DiscordWorld) -> None:
    att = world.dc.add_attachment(photo(), filename="luna.png")
    sent = await world.dc.slash("character", [sub("save", option("name", "Luna"), option("image", att["id"], 11))],
                                attachments=[att])
    deferred = await world.dc.wait_call("POST", f"/interactions/{sent['id']}/")
    assert deferred.json["data"]["flags"] == 64  # private: only the asker sees the answer and its button
    asked = await world.dc.wait_call("POST", f"/webhooks/{APP_ID}/{sent['token']}")
    assert "Not saved" in asked.json["content"]
    assert await names(world) == []
    button = asked.json["components"][0]["components"][0]
    message = next(m for m in world.dc.messages.values() if m.get("components") == asked.json["components"])
    press = await world.dc.press(button["custom_id"], message["id"], user_id=USER)
    saved = await world.dc.wait_call("POST", f"/webhooks/{APP_ID}/{press['token']}")
    assert "Saved character **Luna**" in saved.json["content"] and not saved.json.get("flags")
    assert await names(world) == ["Luna"]


async def test_admin_quota_takes_every_setting_as_a_typed_option(world: DiscordWorld) -> None:
    sent = await world.dc.slash("admin", [sub("quota", option("daily_units", 7, 4), option("pool_off", True, 5),
                                              option("window", "rolling"), option("timezone", "Europe/Paris"),
                                              option("characters", 3, 4), option("unlimited_admins", False, 5))],
                                permissions=MANAGE_GUILD)
    text = (await answer(world, sent)).json["content"]
    assert "**Window:** rolling (Europe/Paris)" in text and "**Community pool:** off" in text
    policy = await world.app.store.policy(str(GUILD))
    assert (policy.daily_units, policy.pool_units, policy.window, policy.timezone, policy.character_limit,
            policy.unlimited_admins) == (7, None, "rolling", "Europe/Paris", 3, False)
    member = await world.dc.slash("admin", [sub("quota", option("user", str(OTHER), 6))], permissions=MANAGE_GUILD,
                                  users=[user_payload(OTHER, "other")])
    shown = (await answer(world, member)).json
    assert f"Quota of <@{OTHER}>" in shown["content"] and "**Used today:** 0 of 7" in shown["content"]
    assert shown["allowed_mentions"] == {"parse": []}  # named, never pinged
    mixed = await world.dc.slash("admin", [sub("quota", option("user", str(OTHER), 6), option("daily_units", 1, 4))],
                                 permissions=MANAGE_GUILD, users=[user_payload(OTHER, "other")])
    refused = (await answer(world, mixed)).json
    assert refused["flags"] == 64 and "alone" in refused["content"]  # core's usage rule, not a silent drop
    assert (await world.app.store.policy(str(GUILD))).daily_units == 7


async def test_long_character_lists_come_in_pages(world: DiscordWorld) -> None:
    for number in range(12):
        att = world.dc.add_attachment(photo(), filename="c.png")
        sent = await world.dc.slash("character", [sub("save", option("name", f"Hero{number:02}"),
                                                      option("image", att["id"], 11), option("consent", True, 5))],
                                    attachments=[att])
        await world.dc.wait_call("POST", f"/webhooks/{APP_ID}/{sent['token']}")
    first = (await answer(world, await world.dc.slash("character", [sub("list")]))).json["content"]
    assert first.count("**Hero") == 10 and first.endswith("More: `/character list page:2`")
    second = (await answer(world, await world.dc.slash("character", [sub("list", option("page", 2, 4))])))
    assert second.json["content"].count("**Hero") == 2 and "More:" not in second.json["content"]


async def test_help_lists_commands_from_core(world: DiscordWorld) -> None:
    text = (await answer(world, await world.dc.slash("help"))).json["content"]
    assert "`/imagine` — generate your character in new poses (model:illustration for drawings)" in text
    assert "`/start`" not in text and "`/help command:imagine`" in text
