"""Messages sent anonymously (group admins) or "as a channel" name no person: castbot refuses them, clearly.

Both kinds share one user id across every chat (1087968824 and 136817688), so taking them at their word
would let ownership, quota, bans and face consent leak between whoever hides behind them.
"""

from __future__ import annotations

import pytest

from tests.telegram.conftest import TelegramWorld
from tests.telegram.helpers import photo
from tests.telegram.test_flows import GROUP

ANON_ADMIN = {"id": 1087968824, "is_bot": True, "first_name": "Group", "username": "GroupAnonymousBot"}
CHANNEL_BOT = {"id": 136817688, "is_bot": True, "first_name": "Channel", "username": "Channel_Bot"}
SENDERS = {
    "anonymous admin": (ANON_ADMIN, {"id": GROUP, "type": "supergroup", "title": "Group"}),
    "as a channel": (CHANNEL_BOT, {"id": -1009001, "type": "channel", "title": "News"}),
}


@pytest.mark.parametrize("who", sorted(SENDERS))
async def test_a_command_without_a_person_is_refused_and_changes_nothing(world: TelegramWorld, who: str) -> None:
    sender, sender_chat = SENDERS[who]
    where = {"from": sender, "sender_chat": sender_chat}
    world.tg.send_photo(GROUP, sender["id"], photo("teal"), caption="/character save Mia --consent", **where)
    world.tg.send_text(GROUP, sender["id"], "/quota", **where)
    await world.until(lambda: sum("as yourself" in t for t in world.texts(GROUP)) == 2, what="two refusals")
    assert await world.app.store.fetch_all("SELECT name FROM characters") == []
    assert await world.app.store.fetch_all("SELECT job_id FROM jobs") == []
    assert not any("Units left" in t for t in world.texts(GROUP))
    assert world.tg.calls_to("getFile") == []  # the photo was never downloaded


async def test_the_same_person_posting_as_themselves_is_served(world: TelegramWorld) -> None:
    world.tg.send_text(GROUP, 2001, "/quota")
    await world.until(lambda: any("Units left" in t for t in world.texts(GROUP)), what="quota shown")
