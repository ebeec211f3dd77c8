"""Ratings and the image safety gate through the fake Bot API: a group is SFW until its admins say
`/admin rating nsfw`; in an SFW group a flagged result is not posted (or goes out with has_spoiler, when the
group chose spoilers), and the admins' log records it."""

from __future__ import annotations

import json

from core.store.modlog import ModLog
from tests.fakes.safety import FLAG_WORD
from tests.telegram.conftest import TelegramWorld
from tests.telegram.helpers import photo

GROUP, ADMIN, MEMBER = -8101, 4100, 4101
GATE_KINDS = ("image_withheld", "image_spoilered")  # the gate's lines; rating changes are logged too


def shown(w: TelegramWorld) -> list[str]:
    """Every text the bot sent or edited in the group, in order."""
    return [str(c.params.get("text", "")) for c in w.tg.calls
            if c.chat_id == GROUP and c.method in ("sendMessage", "editMessageText")]


async def say(w: TelegramWorld, user: int, text: str, expect: str) -> None:
    w.tg.send_text(GROUP, user, text)
    await w.until(lambda: any(expect in t for t in shown(w)), what=f"{expect!r} after {text}")


async def setup(w: TelegramWorld) -> None:
    w.tg.admins[GROUP] = [ADMIN]
    w.tg.send_photo(GROUP, ADMIN, photo("navy"), caption="/character save Luna --consent")
    await w.until(lambda: any("Saved" in t for t in shown(w)), what="character saved")


async def test_sfw_group_withholds_nsfw_group_posts(world: TelegramWorld) -> None:
    await setup(world)
    await say(world, MEMBER, f"/imagine --char Luna {FLAG_WORD} on a beach", "Not posted")
    assert any("safe for work" in t and "Nothing was charged" in t for t in shown(world))
    assert world.tg.calls_to("sendPhoto", GROUP) == [] and world.tg.calls_to("sendMediaGroup", GROUP) == []
    [event] = await ModLog(world.app.store).events(scope_id=str(GROUP), kinds=GATE_KINDS)
    assert (event.kind, event.user_id) == ("image_withheld", str(MEMBER))

    await say(world, MEMBER, "/admin rating nsfw", "Only community admins")
    await say(world, ADMIN, "/admin rating nsfw", "Rating set: NSFW")
    world.tg.send_text(GROUP, MEMBER, f"/imagine --char Luna {FLAG_WORD} at night")
    await world.until(lambda: bool(world.tg.calls_to("sendPhoto", GROUP)), what="the photo")
    [sent] = world.tg.calls_to("sendPhoto", GROUP)
    assert str(sent.params.get("has_spoiler", "false")).lower() == "false"
    assert len(await ModLog(world.app.store).events(scope_id=str(GROUP), kinds=GATE_KINDS)) == 1


async def test_spoiler_choice_sends_album_items_behind_a_cover(world: TelegramWorld) -> None:
    await setup(world)
    await say(world, ADMIN, "/admin rating --flagged spoiler", "posted as spoilers")
    world.tg.send_text(GROUP, MEMBER, f"/imagine --char Luna --n 2 {FLAG_WORD} in a park")
    await world.until(lambda: bool(world.tg.calls_to("sendMediaGroup", GROUP)), what="the album")
    [album] = world.tg.calls_to("sendMediaGroup", GROUP)
    media = album.params["media"]
    items = json.loads(media) if isinstance(media, str) else media
    assert [item.get("has_spoiler") for item in items] == [True, True]
    posted = [m for (chat, _), m in world.tg.messages.items() if chat == GROUP and "photo" in m
              and m["from"]["is_bot"]]
    assert len(posted) == 2 and all(m.get("has_media_spoiler") for m in posted)
    [event] = await ModLog(world.app.store).events(scope_id=str(GROUP), kinds=GATE_KINDS)
    assert event.kind == "image_spoilered"
