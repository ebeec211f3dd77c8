"""Reports, the admins' log and a removal with a ban, through the real discord.py client and the fake Discord."""

from __future__ import annotations

from pathlib import Path

from tests.discord.conftest import DiscordWorld, option, sub
from tests.discord.test_e2e import custom_ids, delivered, follow_ups, imagine, save_character

GUILD, USER, OTHER, ADMIN = 222, 111, 999, 555
MANAGE_GUILD = str(1 << 5)


async def _private_answer(world: DiscordWorld, sent: dict) -> str:
    callback = await world.dc.wait_call("POST", f"/interactions/{sent['id']}/")
    assert callback.json["type"] == 5 and callback.json["data"]["flags"] == 64  # only the asker sees it
    answer = await world.until(lambda: follow_ups(world, sent["token"]), what="the private answer")
    return str(answer[-1].json["content"])


async def test_report_log_and_removal_with_a_ban(world: DiscordWorld) -> None:
    dc = world.dc
    await save_character(world)
    sent = await imagine(world, option("character", "Luna"), option("count", 2, 4))
    result = await delivered(world, sent["token"])
    job_id = custom_ids(result)[0].split(":")[2]
    message = next(m for m in dc.messages.values() if f"cb:report:{job_id}" in str(m.get("components")))

    reported = await _private_answer(world, await dc.press(f"cb:report:{job_id}", message["id"], user_id=OTHER))
    assert reported.startswith("Reported to the admins") and "beach" not in reported and str(USER) not in reported

    refused = await dc.slash("admin", [sub("log")], user_id=OTHER)
    assert "Only community admins" in await _private_answer(world, refused)
    log = await _private_answer(world, await dc.slash("admin", [sub("log", option("since", "1d"))],
                                                      user_id=ADMIN, permissions=MANAGE_GUILD))
    assert "on a beach" in log and "reported" in log and f"about {USER}" in log and f"by {OTHER}" in log

    outputs = [Path(p) for (p,) in await world.app.store.fetch_all(
        "SELECT path FROM job_outputs WHERE job_id = ?", (job_id,))]
    assert len(outputs) == 2 and all(p.exists() for p in outputs)
    removed = await _private_answer(world, await dc.slash(
        "admin", [sub("remove", option("job", job_id), option("ban", True, 5))], user_id=ADMIN,
        permissions=MANAGE_GUILD))
    assert "1 message(s) deleted" in removed and f"{USER} is now banned" in removed
    assert message["id"] not in dc.messages
    assert dc.find("DELETE", f"/channels/333/messages/{message['id']}")
    assert not any(p.exists() for p in outputs)
    quota = await world.app.store.quota(platform="discord", user_id=str(USER), scope_id=str(GUILD))
    assert quota.banned
