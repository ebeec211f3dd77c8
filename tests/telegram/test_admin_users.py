"""Admins name users the Telegram way: a reply to their message, their numeric id, or an @username seen here."""

from __future__ import annotations

from adapters.telegram.adapter import Outcome
from core.errors import UnknownUser
from tests.telegram.conftest import TelegramWorld

ADMIN, BOB, CAROL = 5101, 5102, 5103
GROUP = -5901


async def _banned(world: TelegramWorld, user_id: int) -> bool:
    quota = await world.app.store.quota(platform="telegram", user_id=str(user_id), scope_id=str(GROUP))
    return quota.banned


async def _answered(world: TelegramWorld, sent: dict, chat: int = GROUP) -> Outcome:
    key = f"telegram:{chat}:{sent['message_id']}"
    # handled, and its answer out of the chat's outbox (a handler only queues it)
    await world.until(lambda: key in world.adapter.outcomes and world.adapter.messenger.idle,
                      what=f"outcome of {sent.get('text')!r}")
    return world.adapter.outcomes[key]


async def test_admin_quota_daily_sets_the_allowance(world: TelegramWorld) -> None:
    world.tg.admins[GROUP] = [ADMIN]
    await _answered(world, world.tg.send_text(GROUP, ADMIN, "/admin quota --daily 5"))
    assert (await world.app.store.policy(str(GROUP))).daily_units == 5
    assert "5 unit(s) a day" in world.texts(GROUP)[-1]


async def test_ban_by_reply_bans_that_numeric_id(world: TelegramWorld) -> None:
    world.tg.admins[GROUP] = [ADMIN]
    said = world.tg.send_text(GROUP, BOB, "hello everyone")
    await _answered(world, world.tg.send_text(GROUP, ADMIN, "/admin ban", reply_to_message=said))
    assert await _banned(world, BOB)
    assert not await _banned(world, ADMIN)
    assert f"User <code>{BOB}</code> banned." in world.texts(GROUP)[-1]


async def test_unknown_username_is_refused_and_nothing_is_stored(world: TelegramWorld) -> None:
    world.tg.admins[GROUP] = [ADMIN]
    outcome = await _answered(world, world.tg.send_text(GROUP, ADMIN, "/admin ban @bob"))
    assert isinstance(outcome.error, UnknownUser)
    await world.until(lambda: world.texts(GROUP), what="the refusal")  # the error handler words it
    reply = world.texts(GROUP)[-1]
    assert "“@bob”" in reply and "replying to one of their messages" in reply and "banned" not in reply
    assert await world.app.store.fetch_all("SELECT * FROM bans") == []


async def test_a_username_seen_in_this_chat_is_banned_by_name(world: TelegramWorld) -> None:
    world.tg.admins[GROUP] = [ADMIN]
    world.tg.send_text(GROUP, CAROL, "hi")  # the fake names her @user5103
    await _answered(world, world.tg.send_text(GROUP, CAROL, "/quota"))  # her messages were handled
    await _answered(world, world.tg.send_text(GROUP, ADMIN, f"/admin ban @User{CAROL}"))
    assert await _banned(world, CAROL)
    await _answered(world, world.tg.send_text(GROUP, ADMIN, f"/admin unban @user{CAROL}"))
    assert not await _banned(world, CAROL)


async def test_a_username_seen_in_another_chat_is_not_known_here(world: TelegramWorld) -> None:
    world.tg.admins[GROUP] = [ADMIN]
    await _answered(world, world.tg.send_text(-5902, CAROL, "/quota"), chat=-5902)
    outcome = await _answered(world, world.tg.send_text(GROUP, ADMIN, f"/admin ban @user{CAROL}"))
    assert isinstance(outcome.error, UnknownUser)
    assert not await _banned(world, CAROL)


async def test_member_quota_by_reply(world: TelegramWorld) -> None:
    world.tg.admins[GROUP] = [ADMIN]
    said = world.tg.send_text(GROUP, BOB, "what's my quota")
    await _answered(world, world.tg.send_text(GROUP, ADMIN, "/admin quota --user", reply_to_message=said))
    assert "Units left: 40" in world.texts(GROUP)[-1]


async def test_ban_by_reply_to_a_document_is_still_a_ban(world: TelegramWorld) -> None:
    world.tg.admins[GROUP] = [ADMIN]
    said = world.tg.send_document(GROUP, BOB, b"%PDF-1.4", mime="application/pdf", name="cv.pdf")
    await _answered(world, world.tg.send_text(GROUP, ADMIN, "/admin ban", reply_to_message=said))
    assert await _banned(world, BOB)
