"""Buttons (save, delete), the character group, quota/history, /admin checked server-side, gateway RESUME mid-job."""

from __future__ import annotations

import asyncio
from typing import Any

from core.types import JobState
from tests.discord.conftest import DiscordWorld, option, sub
from tests.discord.test_e2e import OTHER, USER, custom_ids, delivered, imagine, save_character
from tests.fakes.discord_server import Call, user_payload

MANAGE_GUILD = str(1 << 5)


async def answer(w: DiscordWorld, sent: dict[str, Any]) -> Call:
    """The text the user finally sees: the edited deferral or its follow-up."""
    token = sent["token"]
    return await w.dc.wait_for(lambda: next(
        (c for c in reversed(w.dc.calls) if token in c.path and c.method in ("POST", "PATCH")
         and c.path.startswith("/webhooks") and (c.json or {}).get("content")), None))


async def finished_job(w: DiscordWorld) -> tuple[str, str, Call]:
    await save_character(w)
    sent = await imagine(w, option("character", "Luna"))
    result = await delivered(w, sent["token"])
    job_id = custom_ids(result)[0].split(":")[2]
    message_id = next(m["id"] for m in w.dc.messages.values() if f"cb:delete:{job_id}" in str(m["components"]))
    return job_id, message_id, result


async def test_save_as_character_button_asks_a_name_then_saves(world: DiscordWorld) -> None:
    job_id, message_id, _ = await finished_job(world)
    press = await world.dc.press(f"cb:save:{job_id}", message_id)
    modal = await world.dc.wait_call("POST", f"/interactions/{press['id']}/")
    assert modal.json["type"] == 9  # a dialog, answered at once
    fields = [c["components"][0]["custom_id"] for c in modal.json["data"]["components"]]
    sent = await world.dc.submit_modal(modal.json["data"]["custom_id"], {fields[0]: "Hero", fields[1]: "1"})
    assert "Saved character **Hero**" in (await answer(world, sent)).json["content"]
    names = [c.name for c in await world.app.service.book.list(scope_id="222")]
    assert sorted(names) == ["Hero", "Luna"]


async def test_delete_button_removes_the_images_for_the_owner_only(world: DiscordWorld) -> None:
    job_id, message_id, _ = await finished_job(world)
    refused = await world.dc.press(f"cb:delete:{job_id}", message_id, user_id=OTHER)
    call = await world.dc.wait_call("POST", f"/interactions/{refused['id']}/")
    assert call.json["type"] == 4 and call.json["data"]["flags"] == 64  # core asked first: refused at once
    assert not world.dc.find("DELETE", f"/messages/{message_id}")
    press = await world.dc.press(f"cb:delete:{job_id}", message_id, user_id=USER)
    await world.dc.wait_call("DELETE", f"/channels/333/messages/{message_id}")
    assert message_id not in world.dc.messages
    assert (await world.dc.wait_call("POST", f"/interactions/{press['id']}/")).json["type"] == 6


async def test_an_admin_may_delete_anothers_result_but_not_save_it(world: DiscordWorld) -> None:
    job_id, message_id, _ = await finished_job(world)
    save = await world.dc.press(f"cb:save:{job_id}", message_id, user_id=OTHER, permissions=MANAGE_GUILD)
    refusal = await world.dc.wait_call("POST", f"/interactions/{save['id']}/")
    assert refusal.json["type"] == 4 and refusal.json["data"]["flags"] == 64  # refused before any dialog
    assert "not act in its owner's name" in refusal.json["data"]["content"]
    await world.dc.press(f"cb:delete:{job_id}", message_id, user_id=OTHER, permissions=MANAGE_GUILD)
    await world.dc.wait_call("DELETE", f"/channels/333/messages/{message_id}")


async def test_character_group_list_show_rename_delete(world: DiscordWorld) -> None:
    await save_character(world, "Luna")
    listed = await world.dc.slash("character", [sub("list")])
    assert "**Luna**" in (await answer(world, listed)).json["content"]
    shown = await world.dc.slash("character", [sub("show", option("name", "Luna"))])
    shown_call = await answer(world, shown)
    assert shown_call.files and shown_call.files[0][0] == "Luna.png"
    renamed = await world.dc.slash("character", [sub("rename", option("name", "Luna"), option("new_name", "Selene"))])
    assert "Selene" in (await answer(world, renamed)).json["content"]
    other = await world.dc.slash("character", [sub("delete", option("name", "Selene"))], user_id=OTHER)
    refusal = await answer(world, other)
    assert refusal.json["flags"] == 64  # someone else's character: private refusal, still there
    assert [c.name for c in await world.app.service.book.list(scope_id="222")] == ["Selene"]
    deleted = await world.dc.slash("character", [sub("delete", option("name", "Selene"))])
    assert "Deleted" in (await answer(world, deleted)).json["content"]
    assert await world.app.service.book.list(scope_id="222") == []


async def test_quota_and_history(world: DiscordWorld) -> None:
    job_id, _, _ = await finished_job(world)
    for _ in range(400):  # the engine records "delivered" just after the images went out
        if (await world.app.service.job_view(job_id)).state == JobState.DELIVERED:
            break
        await world.clock.advance(0.1)
        await asyncio.sleep(0.005)
    quota = await answer(world, await world.dc.slash("quota"))
    assert "**Left:** 39 units" in quota.json["content"]  # 40 a day, one image delivered
    history = await answer(world, await world.dc.slash("history"))
    assert job_id in history.json["content"] and "delivered" in history.json["content"]


async def test_admin_is_checked_again_server_side(world: DiscordWorld) -> None:
    await save_character(world)
    plain = await world.dc.slash("admin", [sub("stats")], permissions="0")
    refusal = await answer(world, plain)
    assert refusal.json["flags"] == 64 and "admins" in refusal.json["content"]
    policy = await world.dc.slash("admin", [sub("quota", option("daily_units", 5, 4))], permissions=MANAGE_GUILD)
    assert "updated" in (await answer(world, policy)).json["content"]
    assert (await world.app.store.policy("222")).daily_units == 5
    ban = await world.dc.slash("admin", [sub("ban", option("user", str(OTHER), 6))], permissions=MANAGE_GUILD,
                               users=[user_payload(OTHER, "other")])
    assert f"<@{OTHER}> is now banned" in (await answer(world, ban)).json["content"]
    banned = await world.dc.slash("imagine", [option("prompt", "x"), option("character", "Luna")], user_id=OTHER)
    refused = await answer(world, banned)
    assert refused.json["flags"] == 64 and "banned from castbot" in refused.json["content"]


async def test_gateway_drop_mid_job_loses_no_interaction(world: DiscordWorld) -> None:
    await save_character(world)
    sent = await imagine(world, option("character", "Luna"))
    await world.dc.drop_gateway()
    status = await world.dc.slash("quota")  # arrives while the bot is away
    await delivered(world, sent["token"])
    assert "**Left:**" in (await answer(world, status)).json["content"]
    assert world.dc.resumes == 1 and world.dc.identifies == 1
