"""The operator's limits through the real PTB adapter and the fake Bot API (issue 13): an unlisted group is
refused once, then not answered at all; one person's cap spans a DM and several groups."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from adapters.telegram.adapter import Outcome
from core.commands import answers as a
from core.errors import NotAllowed, PersonalCapReached
from tests.conformance.script import ASSETS
from tests.telegram.conftest import TelegramWorld, castbot_settings, telegram_world

GROUPS, UNLISTED, USER = (-7001, -7002, -7003), -7999, 7101


@pytest.fixture
async def limited(tmp_path: Path) -> AsyncIterator[TelegramWorld]:
    settings = castbot_settings(tmp_path, CASTBOT_ALLOWED_PLACES=",".join(f"telegram:{g}" for g in GROUPS),
                                CASTBOT_PERSON_DAILY_UNITS=3)
    async with telegram_world(tmp_path, settings) as world:
        yield world


async def outcome(world: TelegramWorld, chat_id: int, message: dict) -> Outcome:
    key = f"telegram:{chat_id}:{message['message_id']}"
    await world.until(lambda: key in world.adapter.outcomes, what=f"the outcome of {key}")
    return world.adapter.outcomes[key]


async def test_an_unlisted_group_is_refused_once_then_left(limited: TelegramWorld) -> None:
    first = await outcome(limited, UNLISTED, limited.tg.send_text(UNLISTED, USER, "/quota"))
    assert isinstance(first.error, NotAllowed)
    await limited.until(lambda: len(limited.texts(UNLISTED)) == 1, what="the one refusal")
    assert "This bot is private" in limited.texts(UNLISTED)[0]
    # Still used after the refusal: nothing more is said there, and the bot leaves (no more updates come).
    later = await outcome(limited, UNLISTED, limited.tg.send_text(UNLISTED, USER, "/help"))
    assert later.answer == a.Ignored("place", leave=True)
    assert limited.tg.left == {UNLISTED} and len(limited.tg.calls_to("leaveChat")) == 1
    listed = await outcome(limited, GROUPS[0], limited.tg.send_text(GROUPS[0], USER, "/quota"))
    assert isinstance(listed.answer, a.QuotaShown)
    await limited.until(lambda: len(limited.texts(GROUPS[0])) == 1, what="the listed group's answer")
    assert limited.texts(UNLISTED) == [limited.texts(UNLISTED)[0]]
    dm = await outcome(limited, USER, limited.tg.send_text(USER, USER, "/quota"))  # DMs are allowed by default
    assert isinstance(dm.answer, a.QuotaShown)


async def test_one_persons_cap_spans_a_dm_and_groups(limited: TelegramWorld) -> None:
    character = ASSETS["character"].read_bytes()

    async def imagine(chat_id: int, n: int) -> Outcome:
        sent = limited.tg.send_photo(chat_id, USER, character, caption=f"/imagine --n {n} on a beach")
        return await outcome(limited, chat_id, sent)

    assert isinstance((await imagine(GROUPS[0], 2)).answer, a.JobAccepted)
    refused = await imagine(GROUPS[1], 2)  # a fresh group allowance, but the same person
    assert isinstance(refused.error, PersonalCapReached)
    assert isinstance((await imagine(USER, 1)).answer, a.JobAccepted)  # the DM takes the last unit
    for chat in (USER, GROUPS[1], GROUPS[2]):
        assert isinstance((await imagine(chat, 1)).error, PersonalCapReached)
    await limited.until(lambda: any("across all communities" in t for t in limited.texts(GROUPS[2])),
                        what="the personal-cap refusal")
    shown = await outcome(limited, GROUPS[2], limited.tg.send_text(GROUPS[2], USER, "/quota"))
    assert isinstance(shown.answer, a.QuotaShown)
    assert (shown.answer.quota.balance, shown.answer.quota.capped_by_operator) == (0, True)
    await limited.until(lambda: any("this is what limits you now" in t for t in limited.texts(GROUPS[2])),
                        what="/quota naming the personal cap")
