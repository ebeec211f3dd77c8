"""The operator's limits through the real discord.py client and the Discord adapter (issue 13): the allow-list
refuses an unlisted server once and then stays silent; one person's cap spans servers and DMs."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from core.commands import answers as a
from core.errors import NotAllowed, PersonalCapReached
from tests.discord.conftest import DiscordWorld, castbot_settings, discord_world, option, photo
from tests.discord.test_commands import answer
from tests.fakes.discord_server import APP_ID, FakeDiscord

LISTED, UNLISTED, USER = 222, 555, 111


@pytest.fixture
async def limited(tmp_path: Path, dc: FakeDiscord) -> AsyncIterator[DiscordWorld]:
    settings = castbot_settings(tmp_path, CASTBOT_ALLOWED_PLACES=f"discord:{LISTED},discord:223",
                                CASTBOT_PERSON_DAILY_UNITS=3)
    async with discord_world(dc, settings) as world:
        yield world


async def outcome(w: DiscordWorld, sent: dict[str, Any]) -> Any:
    assert w.adapter.handlers is not None
    outcomes = w.adapter.handlers.outcomes
    return await w.until(lambda: outcomes.get(int(sent["id"])), what="the interaction's outcome")


async def test_an_unlisted_server_is_refused_once_then_left(limited: DiscordWorld) -> None:
    first = await limited.dc.slash("quota", guild_id=UNLISTED)
    assert "This bot is private" in (await answer(limited, first)).json["content"]
    assert isinstance(await outcome(limited, first), NotAllowed)
    second = await limited.dc.slash("help", guild_id=UNLISTED)
    assert await outcome(limited, second) == a.Ignored("place", leave=True)
    await limited.dc.wait_call("DELETE", f"/users/@me/guilds/{UNLISTED}")
    assert limited.dc.left_guilds == {str(UNLISTED)}
    # The "thinking" reply is removed, and nothing else is said.
    await limited.dc.wait_call("DELETE", f"/webhooks/{APP_ID}/{second['token']}/messages/@original")
    assert not any(second["token"] in c.path and c.method in ("POST", "PATCH") and (c.json or {}).get("content")
                   for c in limited.dc.calls if c.path.startswith("/webhooks"))
    listed = await limited.dc.slash("quota", guild_id=LISTED)
    assert "**Left:**" in (await answer(limited, listed)).json["content"]


async def test_one_persons_cap_spans_servers_and_dms(limited: DiscordWorld) -> None:
    async def imagine(count: int, **where: Any) -> dict[str, Any]:
        att = limited.dc.add_attachment(photo(), filename="me.png")
        return await limited.dc.slash("imagine", [option("prompt", "on a beach"), option("count", count, 4),
                                                  option("image", att["id"], 11)], attachments=[att],
                                      user_id=USER, **where)

    assert isinstance(await outcome(limited, await imagine(2, guild_id=LISTED)), a.JobAccepted)
    refused = await imagine(2, guild_id=223)  # another server: its own allowance is untouched, the cap is not
    assert isinstance(await outcome(limited, refused), PersonalCapReached)
    assert "across all communities and private chats" in (await answer(limited, refused)).json["content"]
    assert isinstance(await outcome(limited, await imagine(1, guild_id=None)), a.JobAccepted)  # a DM: the last unit
    assert isinstance(await outcome(limited, await imagine(1, guild_id=None)), PersonalCapReached)
    shown = await limited.dc.slash("quota", guild_id=223, user_id=USER)
    text = (await answer(limited, shown)).json["content"]
    assert "**Left:** 0 units" in text and "this is what limits you now" in text
