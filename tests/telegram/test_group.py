"""A busy group: many users, many jobs, one chat that must stay under Telegram's flood limits."""

from __future__ import annotations

from tests.telegram.conftest import TelegramWorld
from tests.telegram.helpers import photo

GROUP = -8001
OWNER = 3000
USERS = [3000 + n for n in range(10)]
GROUP_LIMIT_PER_MINUTE = 20


async def test_ten_users_two_jobs_each_all_delivered_within_group_limits(world: TelegramWorld) -> None:
    world.tg.admins[GROUP] = [OWNER]
    world.tg.send_photo(GROUP, OWNER, photo("navy"), caption="/character save Luna --consent")
    await world.until(lambda: any("Saved" in t for t in world.texts(GROUP)), what="character saved")
    for user in USERS:
        for take in (1, 2):
            world.tg.send_text(GROUP, user, f"/imagine@castbot --char Luna take {take} of user {user}")

    await world.until(lambda: len(world.tg.calls_to("sendPhoto", GROUP)) >= 20, step=0.5, what="20 deliveries")

    photos = world.tg.calls_to("sendPhoto", GROUP)
    assert len(photos) == 20, "every job delivered exactly once"
    assert all(p.status == 200 for p in photos)
    bot_calls = sorted(c.at for c in world.tg.calls
                       if c.chat_id == GROUP and c.method in ("sendMessage", "editMessageText", "sendPhoto"))
    busiest = max(sum(1 for t in bot_calls if start <= t < start + 60) for start in bot_calls)
    assert busiest <= GROUP_LIMIT_PER_MINUTE, f"{busiest} messages in one minute"
    # each command got its one status message (in a group this busy, coalescing may leave no room for
    # intermediate edits: the status is posted with the newest view when the chat's turn comes)
    statuses = [c for c in world.tg.calls_to("sendMessage", GROUP) if "</b> · poses" in str(c.params.get("text", ""))]
    assert len(statuses) == 20
    assert not [c for c in world.tg.calls if c.status == 429]
    assert len(world.tg.calls_to("getChatAdministrators", GROUP)) == 1, "admins cached"
