"""The fake Bot API refuses what Telegram refuses, answering as Telegram does — so the fake itself can fail.

One test per rule in tests/fakes/telegram/rules.py and flood.py, driven through the real PTB Bot or raw
HTTP, each inside `expect_refusal` (which also fails if no refusal came).
"""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from PIL import Image
from telegram import Bot, BotCommand, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest, RetryAfter

from tests.fakes.clock import FakeClock
from tests.fakes.telegram import FakeTelegramServer
from tests.fakes.telegram.rules import NOT_MODIFIED
from tests.telegram.helpers import photo

PRIVATE, OTHER, GROUP = 4101, 4102, -4103


@pytest.fixture
async def tg(fake_clock: FakeClock) -> AsyncIterator[FakeTelegramServer]:
    async with FakeTelegramServer(clock=fake_clock.now) as server:
        yield server


@pytest.fixture
async def bot(tg: FakeTelegramServer) -> AsyncIterator[Bot]:
    async with Bot(tg.token, base_url=f"{tg.root}/bot", base_file_url=f"{tg.root}/file/bot") as real:
        yield real


async def api(tg: FakeTelegramServer, method: str, files: dict[str, bytes] | None = None,
              **params: Any) -> tuple[int, dict[str, Any]]:
    """One raw Bot API call, encoded as PTB encodes it; returns the HTTP status and the JSON body."""
    form = {k: v if isinstance(v, str) else json.dumps(v) for k, v in params.items()}
    async with httpx.AsyncClient() as http:
        answer = await http.post(f"{tg.root}/bot{tg.token}/{method}", data=form, files=files or None)
    return answer.status_code, answer.json()


def image(width: int, height: int) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (width, height), "teal").save(buf, format="PNG")
    return buf.getvalue()


def keyboard(data: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton("Go", callback_data=data)]])


async def test_an_edit_to_the_same_text_and_buttons_is_not_modified(tg: FakeTelegramServer, bot: Bot,
                                                                   fake_clock: FakeClock) -> None:
    sent = await bot.send_message(PRIVATE, "<b>Done</b> · poses", parse_mode="HTML", reply_markup=keyboard("a:1"))
    await fake_clock.advance(1.0)
    # the same content in other markup is the same message: Telegram compares what it parsed
    with tg.expect_refusal("message is not modified"), pytest.raises(BadRequest, match=r"(?i)not modified"):
        await bot.edit_message_text("<strong>Done</strong> · poses", chat_id=PRIVATE,
                                    message_id=sent.message_id, parse_mode="HTML", reply_markup=keyboard("a:1"))
    assert tg.refusals[-1].description == NOT_MODIFIED and tg.refusals[-1].code == 400
    await bot.edit_message_text("<b>Done</b> · poses", chat_id=PRIVATE, message_id=sent.message_id,
                                parse_mode="HTML")  # the buttons go: that is a change


async def test_editing_a_missing_message_is_not_found(tg: FakeTelegramServer) -> None:
    with tg.expect_refusal("message to edit not found"):
        status, body = await api(tg, "editMessageText", chat_id=PRIVATE, message_id=77, text="x")
    assert (status, body) == (400, {"ok": False, "error_code": 400,
                                    "description": "Bad Request: message to edit not found"})


async def test_private_chat_takes_one_message_a_second(tg: FakeTelegramServer, bot: Bot,
                                                       fake_clock: FakeClock) -> None:
    await bot.send_message(PRIVATE, "one")
    with tg.expect_refusal("Too Many Requests: retry after 1"):
        status, body = await api(tg, "sendMessage", chat_id=PRIVATE, text="two")
    assert status == 429 and body["parameters"] == {"retry_after": 1}
    await bot.send_message(OTHER, "another chat is not held up")
    await fake_clock.advance(1.0)
    await bot.send_message(PRIVATE, "two, a second later")


async def test_a_group_takes_twenty_messages_a_minute(tg: FakeTelegramServer, bot: Bot,
                                                      fake_clock: FakeClock) -> None:
    for n in range(20):
        await bot.send_message(GROUP, f"message {n}")
        await fake_clock.advance(1.0)
    with tg.expect_refusal("Too Many Requests"), pytest.raises(RetryAfter) as refused:
        await bot.send_message(GROUP, "the 21st within a minute")
    assert refused.value.retry_after in (40, 41) or int(refused.value.retry_after.total_seconds()) in (40, 41)
    await fake_clock.advance(41.0)
    await bot.send_message(GROUP, "the window moved on")


async def test_about_thirty_messages_a_second_overall(tg: FakeTelegramServer, bot: Bot) -> None:
    for chat in range(30):
        await bot.send_message(10_000 + chat, "hello")
    with tg.expect_refusal("Too Many Requests"), pytest.raises(RetryAfter):
        await bot.send_message(20_000, "the 31st this second")


async def test_text_is_limited_to_4096_characters_after_parsing(tg: FakeTelegramServer, bot: Bot) -> None:
    await bot.send_message(PRIVATE, "<b>" + "&amp;" * 4096 + "</b>", parse_mode="HTML")  # 4096 visible
    with tg.expect_refusal("message is too long"), pytest.raises(BadRequest, match=r"(?i)too long"):
        await bot.send_message(OTHER, "<i>" + "x" * 4097 + "</i>", parse_mode="HTML")


async def test_caption_is_limited_to_1024_characters_after_parsing(tg: FakeTelegramServer, bot: Bot) -> None:
    await bot.send_photo(PRIVATE, photo(), caption="<b>" + "x" * 1024 + "</b>", parse_mode="HTML")
    with tg.expect_refusal("caption is too long"), pytest.raises(BadRequest):
        await bot.send_photo(OTHER, photo(), caption="x" * 1025)


@pytest.mark.parametrize(("text", "problem"), [
    ("<div>block</div>", 'Unsupported start tag "div"'),
    ("<b>never closed", "Can't find end tag corresponding to start tag \"b\""),
    ("<b><i>crossed</b></i>", "Unmatched end tag"),
    ("fish & chips", "Character entity expected"),
    ("a < b", "Unsupported start tag"),
    ('<span class="red">x</span>', 'must have class "tg-spoiler"'),
])
async def test_html_that_does_not_parse_is_refused(tg: FakeTelegramServer, text: str, problem: str) -> None:
    with tg.expect_refusal("can't parse entities"):
        status, body = await api(tg, "sendMessage", chat_id=PRIVATE, text=text, parse_mode="HTML")
    assert status == 400 and body["description"].startswith("Bad Request: can't parse entities: ")
    assert problem in body["description"]


async def test_every_documented_tag_and_entity_parses(tg: FakeTelegramServer, bot: Bot) -> None:
    text = ('<b>b</b><strong>s</strong><i>i</i><em>e</em><u>u</u><ins>n</ins><s>s</s><strike>k</strike>'
            '<del>d</del><span class="tg-spoiler">p</span><tg-spoiler>t</tg-spoiler><a href="https://x.y">a</a>'
            '<code>c</code><pre><code class="language-python">q</code></pre><blockquote>o</blockquote>'
            '<tg-emoji emoji-id="5368324170671202286">👍</tg-emoji> &lt;&gt;&amp;&quot;&#39;&#x41;')
    sent = await bot.send_message(PRIVATE, text, parse_mode="HTML")
    assert sent.text.endswith("👍 <>&\"'A")
    assert {e.type for e in sent.entities} >= {"bold", "italic", "underline", "strikethrough", "spoiler",
                                               "text_link", "code", "pre", "blockquote", "custom_emoji"}


async def test_callback_data_is_one_to_64_bytes(tg: FakeTelegramServer, bot: Bot) -> None:
    await bot.send_message(PRIVATE, "fits", reply_markup=keyboard("x" * 64))
    with tg.expect_refusal("BUTTON_DATA_INVALID"), pytest.raises(BadRequest):
        await bot.send_message(OTHER, "33 two-byte letters are 66 bytes", reply_markup=keyboard("é" * 33))


@pytest.mark.parametrize("count", [1, 11])
async def test_a_media_group_has_two_to_ten_items(tg: FakeTelegramServer, count: int) -> None:
    media = [{"type": "photo", "media": f"attach://p{n}"} for n in range(count)]
    files = {f"p{n}": photo() for n in range(count)}
    with tg.expect_refusal("media must contain 2-10 items"):
        status, _ = await api(tg, "sendMediaGroup", files, chat_id=PRIVATE, media=media)
    assert status == 400
    pair = [{"type": "photo", "media": f"attach://p{n}"} for n in range(2)]
    status, body = await api(tg, "sendMediaGroup", {"p0": photo(), "p1": photo()}, chat_id=OTHER, media=pair)
    assert status == 200 and len(body["result"]) == 2


@pytest.mark.parametrize(("data", "refusal"), [
    (image(9000, 1001), "PHOTO_INVALID_DIMENSIONS"),  # width + height over 10000
    (image(2100, 100), "PHOTO_INVALID_DIMENSIONS"),  # ratio 21
    (b"\xff" * (10 * 1024 * 1024 + 1), "PHOTO_SAVE_FILE_INVALID"),  # over 10 MB
])
async def test_photo_size_and_dimension_limits(tg: FakeTelegramServer, bot: Bot, data: bytes, refusal: str) -> None:
    with tg.expect_refusal(refusal), pytest.raises(BadRequest):
        await bot.send_photo(PRIVATE, data)
    await bot.send_photo(OTHER, image(8000, 2000))  # 10000 in total and ratio 4: fine


@pytest.mark.parametrize(("commands", "refusal"), [
    ([BotCommand("Imagine", "uppercase is not allowed")], "BOT_COMMAND_INVALID"),
    ([BotCommand("x" * 33, "one letter too long")], "BOT_COMMAND_INVALID"),
    ([BotCommand("imagine", "")], "BOT_COMMAND_DESCRIPTION_INVALID"),
    ([BotCommand("imagine", "d" * 257)], "BOT_COMMAND_DESCRIPTION_INVALID"),
    ([BotCommand(f"c{n}", "fine") for n in range(101)], "too many commands"),
])
async def test_set_my_commands_rules(tg: FakeTelegramServer, bot: Bot, commands: list[BotCommand],
                                     refusal: str) -> None:
    with tg.expect_refusal(refusal), pytest.raises(BadRequest):
        await bot.set_my_commands(commands)
    assert await bot.set_my_commands([BotCommand("a_1" + "z" * 29, "d" * 256), BotCommand("b", "x")])


async def test_two_consumers_polling_one_token_conflict(tg: FakeTelegramServer) -> None:
    first = asyncio.ensure_future(api(tg, "getUpdates", timeout=3))
    await asyncio.sleep(0.2)  # real time: the first long poll is held open by the fake
    with tg.expect_refusal("terminated by other getUpdates request"):
        second = asyncio.ensure_future(api(tg, "getUpdates", timeout=1))
        status, body = await first
    assert status == 409 and body["description"].startswith("Conflict: terminated by other getUpdates request")
    assert (await second)[0] == 200


async def test_a_refusal_nobody_expected_is_reported(tg: FakeTelegramServer) -> None:
    await api(tg, "editMessageText", chat_id=PRIVATE, message_id=1, text="x")
    assert [r.description for r in tg.unexpected_refusals()] == ["Bad Request: message to edit not found"]
    tg.expected_refusals.extend(tg.unexpected_refusals())  # this test's own, now accounted for
    with pytest.raises(AssertionError, match="never refused"), tg.expect_refusal("message is not modified"):
        pass
