"""Reports, the admins' log and a removal with a ban, through the real PTB adapter and the fake Bot API."""

from __future__ import annotations

from pathlib import Path

from tests.telegram.conftest import TelegramWorld
from tests.telegram.helpers import photo

GROUP = -6101
ALICE, BOB, ADMIN = 2101, 2102, 2103
PROMPT = "a lantern in the snow"


def data(message: dict, prefix: str) -> str:
    rows = message.get("reply_markup", {}).get("inline_keyboard", [])
    return next(b["callback_data"] for row in rows for b in row if b["callback_data"].startswith(prefix))


async def test_report_log_and_removal_with_a_ban_of_an_album(world: TelegramWorld) -> None:
    tg = world.tg
    tg.admins[GROUP] = [ADMIN]
    tg.send_photo(GROUP, ALICE, photo("navy"), caption="/character save Luna --consent")
    await world.until(lambda: any("Saved" in t for t in world.texts(GROUP)), what="character saved")
    tg.send_text(GROUP, ALICE, f"/imagine --char Luna --n 2 {PROMPT}")
    await world.until(lambda: any("rp:" in str(m.get("reply_markup")) for m in tg.bot_messages(GROUP)), step=0.5,
                      what="result with buttons")
    buttons = next(m for m in tg.bot_messages(GROUP) if "rp:" in str(m.get("reply_markup")))
    job_id = data(buttons, "rr:").split(":", 1)[1]
    album = [m for m in tg.bot_messages(GROUP) if "photo" in m]
    assert len(album) == 2

    # Bob reports, twice: a private alert that says nothing about the job; one row
    for _ in range(2):
        tg.press(BOB, buttons, data(buttons, "rp:"))
    await world.until(lambda: len(tg.calls_to("answerCallbackQuery")) == 2, what="both presses answered")
    alerts = [c.params for c in tg.calls_to("answerCallbackQuery")]
    assert all(a["text"].startswith("Reported to the admins") and a.get("show_alert") for a in alerts)
    assert not any(PROMPT in a["text"] or str(ALICE) in a["text"] for a in alerts)
    rows = await world.app.store.fetch_all("SELECT actor_id, user_id FROM mod_events WHERE kind = 'report'")
    assert [tuple(r) for r in rows] == [(str(BOB), str(ALICE))]

    # the log: refused to Bob; for the admin, sent to their private chat, never to the group
    tg.send_text(GROUP, BOB, "/admin log")
    await world.until(lambda: any("Only community admins" in t for t in world.texts(GROUP)), what="refusal")
    tg.unopened.add(ADMIN)  # Telegram lets no bot write first: the admin is asked to open the chat
    with tg.expect_refusal("can't initiate conversation"):
        tg.send_text(GROUP, ADMIN, "/admin log")
        await world.until(lambda: any("press Start" in t for t in world.texts(GROUP)), what="open-a-chat hint")
    tg.send_text(ADMIN, ADMIN, "/start")
    await world.until(lambda: world.texts(ADMIN), what="the /start answer")
    started = len(world.texts(ADMIN))
    tg.send_text(GROUP, ADMIN, "/admin log")
    await world.until(lambda: len(world.texts(ADMIN)) > started, what="the log in the admin's private chat")
    log = world.texts(ADMIN)[-1]
    assert PROMPT in log and "reported" in log and f"about {ALICE}" in log and f"by {BOB}" in log
    await world.until(lambda: any("private chat" in t for t in world.texts(GROUP)), what="pointer in the group")
    assert not any("newest first" in t or f"about {ALICE}" in t for t in world.texts(GROUP))  # no log lines

    # one step: every message of the album and its buttons goes, the stored images go, the author is banned
    outputs = [Path(p) for (p,) in await world.app.store.fetch_all(
        "SELECT path FROM job_outputs WHERE job_id = ?", (job_id,))]
    assert len(outputs) == 2 and all(p.exists() for p in outputs)
    tg.send_text(GROUP, ADMIN, f"/admin remove {job_id} --ban")
    await world.until(lambda: any("Removed the images" in t for t in world.texts(GROUP)), what="removal answer")
    deleted = {int(c.params["message_id"]) for c in tg.calls_to("deleteMessage", GROUP)}
    assert deleted == {m["message_id"] for m in [*album, buttons]}
    assert not [m for m in tg.bot_messages(GROUP) if "photo" in m or "rp:" in str(m.get("reply_markup"))]
    assert not any(p.exists() for p in outputs)
    assert "3 message(s) deleted" in world.texts(GROUP)[-1] and f"{ALICE} is now banned" in world.texts(GROUP)[-1]
    kinds = await world.app.store.fetch_all("SELECT kind, actor_id FROM mod_events ORDER BY event_id")
    assert [tuple(k) for k in kinds] == [("report", str(BOB)), ("output_deleted", str(ADMIN)), ("ban", str(ADMIN))]
    tg.send_text(GROUP, ALICE, "/imagine --char Luna again")
    await world.until(lambda: any("banned" in t for t in world.texts(GROUP)[-1:]), what="the ban holds")


async def test_a_filter_list_asked_in_a_group_goes_to_the_admin_privately(world: TelegramWorld) -> None:
    tg = world.tg
    tg.admins[GROUP] = [ADMIN]
    tg.send_text(GROUP, ADMIN, "/admin filter add lanternword")
    await world.until(lambda: any("Added the word filter" in t for t in world.texts(GROUP)), what="filter added")
    tg.send_text(ADMIN, ADMIN, "/start")
    await world.until(lambda: world.texts(ADMIN), what="the /start answer")
    started = len(world.texts(ADMIN))
    tg.send_text(GROUP, ADMIN, "/admin filter list")
    await world.until(lambda: len(world.texts(ADMIN)) > started, what="the list in the admin's private chat")
    assert "lanternword" in world.texts(ADMIN)[-1]
    await world.until(lambda: any("words this community refuses" in t for t in world.texts(GROUP)),
                      what="pointer in the group")
    assert sum("lanternword" in t for t in world.texts(GROUP)) == 1  # only the admin's own "added" line
