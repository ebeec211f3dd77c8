"""Hostile input through the real Telegram adapter, and the 100-command burst.

Each hostile case is offered the way a person (or an attacker) would send it; it must get a clear
answer — never the "something went wrong on our side" fallback, never silence — and change nothing
it should not: a refused case creates no job and no character, an accepted one creates exactly its job.
Cases run concurrently, each in its own private chat (Telegram paces a group at 20 messages a
minute), except those that need a group: admin commands and another community's character.
"""

from __future__ import annotations

import asyncio
import sqlite3
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.chaos.fake_telegram import ChaosTelegramServer
from tests.chaos.hostile_rules import filters_set, rule_cases
from tests.chaos.invariants import connect_ro
from tests.chaos.reports import admin_log_in_group, report_sweep, with_report
from tests.chaos.scenario import bot_replies, button_data, community_chat, until, user_id
from tests.fakes import hostile_images as hi

OOPS = "Something went wrong on our side"
ANSWER_SECONDS = 30.0
HOSTILE_GROUP = -1_000_900
HOSTILE_ADMIN, HOSTILE_USER = 90_001, 90_002
SCRIPTS = ("مرحبا بالعالم", "你好，世界", "नमस्ते दुनिया", "Привет, мир", "こんにちは", "שלום", "สวัสดี",
           "👩‍🚀🧑🏽‍🎤✨", "Ελληνικά", "ᚠᚢᚦᚨᚱᚲ")
MARKUP = ('<b>bold <i>unclosed & </code> <script>alert(1)</script> &amp;lt; <a href="x">',
          "**bold** __under__ `code` ~~s~~ ||spoiler|| @everyone <@123> [x](http://e.vil)",
          "ctrl \x00 \x07 \x1b[31m red \u202e desrever \u200b zero-width \r\n newline")


@dataclass(frozen=True)
class Case:
    label: str
    send: Callable[[ChaosTelegramServer, int, int], dict[str, Any]]  # (fake, chat, user) -> message
    expect: str  # "refused" or "accepted"
    chat: int | None = None  # None: a private chat of its own
    user: int | None = None
    says: str = ""  # a refusal must say this, when a generic "no" would not be clear enough


def _text(text: str) -> Callable[[ChaosTelegramServer, int, int], dict[str, Any]]:
    return lambda fake, chat, uid: fake.offer_text(chat, uid, text)


def _photo(data: bytes, caption: str) -> Callable[[ChaosTelegramServer, int, int], dict[str, Any]]:
    return lambda fake, chat, uid: fake.offer_photo(chat, uid, data, caption)


def _document(data: bytes, mime: str, caption: str, size: int | None = None,
              name: str = "file.bin") -> Callable[[ChaosTelegramServer, int, int], dict[str, Any]]:
    def send(fake: ChaosTelegramServer, chat: int, uid: int) -> dict[str, Any]:
        msg = fake.send_document(chat, uid, data, mime=mime, caption=caption, size=size, name=name)
        fake.offered[(chat, msg["message_id"])] = time.monotonic()
        return msg
    return send


# Telegram's stand-ins for "no person": every anonymous admin, and every post made as a channel
ANON_ADMIN = {"id": 1087968824, "is_bot": True, "first_name": "Group", "username": "GroupAnonymousBot"}
CHANNEL_BOT = {"id": 136817688, "is_bot": True, "first_name": "Channel", "username": "Channel_Bot"}
AS_YOURSELF = "Send the command as yourself"


def _faceless(sender: dict[str, Any], sender_chat: dict[str, Any] | None, text: str,
              data: bytes | None = None) -> Callable[[ChaosTelegramServer, int, int], dict[str, Any]]:
    """A message with `sender_chat` set: from an anonymous admin (the group itself) or "as a channel"."""
    def send(fake: ChaosTelegramServer, chat: int, uid: int) -> dict[str, Any]:
        where = {"from": sender, "sender_chat": sender_chat or {"id": chat, "type": "supergroup", "title": "G"}}
        msg = (fake.send_photo(chat, uid, data, caption=text, **where) if data is not None
               else fake.send_text(chat, uid, text, **where))
        fake.offered[(chat, msg["message_id"])] = time.monotonic()
        return msg
    return send


def _look_alike(name: str) -> str:
    """The same name with its Latin letters swapped for Cyrillic ones that render identically."""
    return name.translate(str.maketrans("CAEOPcaeop", "САЕОРсаеор"))


def issue_14_cases(other_community_character: str) -> list[Case]:
    """Issue 14's hostile inputs; each is refused with a clear reply and saves nothing."""
    good = hi.photo_jpeg(96, 96)
    lookalike = _look_alike(other_community_character)
    assert lookalike != other_community_character
    channel = {"id": -1_009_001, "type": "channel", "title": "News"}
    return [
        Case("save without consent", _photo(good, "/character save Mia she always says yes"), "refused",
             says="right to use"),
        Case("look-alike of an existing character's name", _photo(good, f"/character save {lookalike} --consent"),
             "refused", community_chat(1), user_id(1, 1), says="looks the same"),
        Case("1-bit 6300x6300 PNG bomb", _document(hi.zero_png(6300, 6300), "image/png",
                                                   "/character save Bit --consent", name="bit.png"), "refused"),
        Case("save by an anonymous admin", _faceless(ANON_ADMIN, None, "/character save Anon --consent", good),
             "refused", HOSTILE_GROUP, ANON_ADMIN["id"], says=AS_YOURSELF),
        Case("/imagine as a channel", _faceless(CHANNEL_BOT, channel, "/imagine a lighthouse", good), "refused",
             HOSTILE_GROUP, CHANNEL_BOT["id"], says=AS_YOURSELF),
    ]


def cases(other_community_character: str) -> list[Case]:
    good = hi.photo_jpeg(96, 96)
    out: list[Case] = [
        Case("oversized file (30 MB declared)", _document(good, "image/jpeg", "/character save Big --consent",
                                                          size=30 * 1024 * 1024), "refused"),
        Case("truncated JPEG", _photo(hi.truncated_jpeg(), "/character save Trunc --consent"), "refused"),
        Case("decompression bomb PNG", _document(hi.decompression_bomb_png(), "image/png",
                                                 "/character save Bomb --consent", name="bomb.png"), "refused"),
        Case("PDF as an image", _document(b"%PDF-1.4\n%\xe2\xe3\n1 0 obj<<>>endobj\n", "application/pdf",
                                          "/imagine a portrait", name="doc.pdf"), "refused"),
        Case("SVG as an image", _document(hi.svg_image(), "image/svg+xml", "/character save Svg --consent",
                                          name="x.svg"), "refused"),
        Case("prompt at the limit (2000)", _photo(good, "/imagine " + "a" * 2000), "accepted"),
        Case("prompt over the limit (2001)", _photo(good, "/imagine " + "a" * 2001), "refused"),
        Case("prompt far over the limit", _photo(good, "/imagine " + "ж" * 5000), "refused"),
        Case("--n out of range", _photo(good, "/imagine --n 99 a cat"), "refused"),
        Case("--n negative", _photo(good, "/imagine --n -1 a cat"), "refused"),
        Case("--n not a number", _photo(good, "/imagine --n lots a cat"), "refused"),
        Case("unknown flag", _photo(good, "/imagine --warp 9 a cat"), "refused"),
        Case("unknown model", _photo(good, "/imagine --model sdxl a cat"), "refused"),
        Case("unknown character", _text("/imagine --char Nobody at the sea"), "refused"),
        Case("character name with markup", _photo(good, "/character save <b>x</b> --consent"), "refused"),
        Case("/imagine with no photo", _text("/imagine a cat"), "refused"),
        Case("/cancel with nothing running", _text("/cancel"), "refused"),
        Case("/character show unknown", _text("/character show Ghost"), "refused"),
        Case("unknown command", _text("/selfdestruct now"), "refused"),
        Case("another community's character", _text(f"/imagine --char {other_community_character} hi"),
             "refused", HOSTILE_GROUP, HOSTILE_USER),
        Case("/admin stats by a non-admin", _text("/admin stats"), "refused", HOSTILE_GROUP, HOSTILE_USER),
        Case("/admin quota by a non-admin", _text("/admin quota --daily-units 9999"), "refused",
             HOSTILE_GROUP, HOSTILE_USER),
        Case("/admin ban by a non-admin", _text(f"/admin ban {HOSTILE_ADMIN}"), "refused", HOSTILE_GROUP,
             HOSTILE_USER),
    ]
    for i, script in enumerate(SCRIPTS + MARKUP):
        out.append(Case(f"prompt in script/markup #{i}", _photo(good, f"/imagine {script}"), "accepted"))
    rules = rule_cases(Case, lambda caption: _photo(good, caption), _text, group=HOSTILE_GROUP, admin=HOSTILE_ADMIN,
                       member=HOSTILE_USER)
    return out + issue_14_cases(other_community_character) + rules


def _job_exists(db: Path, idem_key: str) -> bool:
    try:
        with connect_ro(db) as conn:
            return conn.execute("SELECT 1 FROM jobs WHERE idem_key = ?", (idem_key,)).fetchone() is not None
    except sqlite3.OperationalError:
        return False


def _characters(db: Path) -> int:
    with connect_ro(db) as conn:
        return int(conn.execute("SELECT COUNT(*) FROM characters").fetchone()[0])


def _first_answer(fake: ChaosTelegramServer, chat: int, mid: int, *, placeholder: bool) -> dict[str, Any] | None:
    """The bot's first reply; without `placeholder`, not the "⏳ Accepted" one (a refusal deletes it)."""
    replies = [m for m in bot_replies(fake, chat, mid)
               if placeholder or not str(m.get("text", "")).startswith("⏳ Accepted")]
    return replies[0] if replies else None


async def _play_case(fake: ChaosTelegramServer, db: Path, case: Case, chat: int, uid: int,
                     transcript: list[str]) -> list[str]:
    msg = case.send(fake, chat, uid)
    mid = msg["message_id"]
    idem = f"telegram:{chat}:{mid}"
    answer = await until(lambda: _first_answer(fake, chat, mid, placeholder=case.expect == "accepted"),
                         ANSWER_SECONDS)
    if answer is None:
        return [f"hostile '{case.label}': no answer within {ANSWER_SECONDS:.0f} s"]
    text = str(answer.get("text") or answer.get("caption") or "")
    transcript.append(f"{case.label} [{case.expect}] -> {text[:160]!r}")
    if OOPS in text:
        return [f"hostile '{case.label}': answered with the unexpected-error fallback"]
    if case.says and case.says not in text:
        return [f"hostile '{case.label}': the refusal does not say {case.says!r}: {text[:120]!r}"]
    if case.expect == "accepted":
        if not await until(lambda: _job_exists(db, idem), 10.0):
            return [f"hostile '{case.label}': should be accepted, but no job (answer {text[:80]!r})"]
    elif _job_exists(db, idem):
        return [f"hostile '{case.label}': should be refused, but a job was created"]
    return []


async def hostile_sweep(fake: ChaosTelegramServer, db: Path, other_community_character: str,
                        pre_restart: tuple[int, int, dict[str, Any]] | None, intruder: int,
                        transcript: list[str]) -> tuple[int, list[str]]:
    """Play every case, noting each answer in `transcript`; returns (cases played, violations)."""
    fake.admins[HOSTILE_GROUP] = [HOSTILE_ADMIN]
    before = _characters(db)
    all_cases = cases(other_community_character)
    private = [c for c in all_cases if c.chat is None]
    group = [c for c in all_cases if c.chat is not None]
    jobs = [_play_case(fake, db, c, 95_000 + i, 95_000 + i, transcript) for i, c in enumerate(private)]
    problems: list[str] = []
    for result in await asyncio.gather(*jobs):
        problems += result
    problems += await filters_set(fake, HOSTILE_GROUP, HOSTILE_ADMIN, ANSWER_SECONDS)
    for case in group:  # one group chat, one after another
        assert case.chat is not None and case.user is not None
        problems += await _play_case(fake, db, case, case.chat, case.user, transcript)
    raw_photo_chat = 95_000 + next(i for i, c in enumerate(private) if c.expect == "accepted")
    problems += await _save_unconfirmed(fake, raw_photo_chat, transcript)
    if _characters(db) != before:
        problems.append(f"hostile saves changed the characters: {before} -> {_characters(db)}")
    played = len(all_cases) + 1
    if pre_restart is not None:
        played += 2
        problems += await _presses(fake, db, pre_restart, intruder, transcript)
    reporter, result = (intruder, pre_restart[2]) if pre_restart else (raw_photo_chat,
                                                                         with_report(fake, raw_photo_chat))
    reported, found = await report_sweep(fake, db, result, reporter, HOSTILE_GROUP, HOSTILE_USER, transcript)
    found += await admin_log_in_group(fake, HOSTILE_GROUP, HOSTILE_ADMIN, transcript)
    return played + reported + 1, problems + found


async def _save_unconfirmed(fake: ChaosTelegramServer, chat: int, transcript: list[str]) -> list[str]:
    """"Save as character" pressed on a raw photo's result asks for consent and saves nothing by itself
    (the sweep's character count says nothing was saved)."""
    label = "save-as-character from a raw photo's result"
    result = await until(lambda: next((m for m in fake.bot_messages(chat) if button_data(m, "sv:")), None),
                         ANSWER_SECONDS * 2)
    if result is None:
        return [f"hostile '{label}': no result with a save button to press"]
    data = button_data(result, "sv:")
    assert data is not None
    before = len(fake.bot_messages(chat))
    fake.press(chat, result, data)  # a private chat: the chat's id is its owner's

    def asked() -> dict[str, Any] | None:
        return next((m for m in fake.bot_messages(chat)[before:] if "right to use" in str(m.get("text", ""))), None)

    ask = await until(asked, ANSWER_SECONDS)
    transcript.append(f"{label} [refused] -> {str((ask or {}).get('text', ''))[:160]!r}")
    if ask is None:
        return [f"hostile '{label}': no request to confirm consent"]
    if button_data(ask, "ok:") is None:
        return [f"hostile '{label}': the consent request has no confirm button"]
    return []


async def _presses(fake: ChaosTelegramServer, db: Path, pre_restart: tuple[int, int, dict[str, Any]],
                   intruder: int, transcript: list[str]) -> list[str]:
    """A re-roll pressed by someone else is refused; the owner's press on a pre-restart job works."""
    _chat, owner, result = pre_restart
    data = button_data(result, "rr:")
    assert data is not None
    problems = []
    for who, expect in ((intruder, "refused"), (owner, "accepted")):
        query = fake.press(who, result, data)
        answered = await until(lambda q=query: [c for c in fake.calls_to("answerCallbackQuery")
                                                if c.params.get("callback_query_id") == q], ANSWER_SECONDS)
        if not answered:
            problems.append(f"button press by {expect} user: no answer")
            continue
        text = str(answered[0].params.get("text", ""))
        transcript.append(f"re-roll press on a pre-restart job [{expect}] -> {text!r}")
        made = _job_exists(db, f"telegram:cb:{query}") or await until(
            lambda q=query: _job_exists(db, f"telegram:cb:{q}"), 5.0 if expect == "accepted" else 0.5)
        if OOPS in text or (expect == "accepted") != bool(made):
            problems.append(f"button press expected {expect}: answer {text!r}, job made: {bool(made)}")
    return problems


async def burst(fake: ChaosTelegramServer, commands: int, users: int) -> list[float]:
    """`commands` commands offered within one second by `users` people in their private chats;
    returns each one's seconds from being offered to the bot's first answer (inf if none)."""
    photo = hi.photo_jpeg(80, 80)
    offered: list[tuple[int, int]] = []
    for i in range(commands):
        uid = 80_000 + i % users
        if i % 2 == 0:
            msg = fake.offer_photo(uid, uid, photo, f"/imagine burst {i}")
        else:
            msg = fake.offer_text(uid, uid, "/quota")
        offered.append((uid, msg["message_id"]))
        await asyncio.sleep(1.0 / commands)  # spread over one second, as the issue asks

    def answered() -> bool:
        return all(bot_replies(fake, c, m) for c, m in offered)

    await until(answered, 60.0)
    latencies = []
    for chat, mid in offered:
        replies = bot_replies(fake, chat, mid)
        first = min((fake.sent_at[(chat, r["message_id"])] for r in replies), default=None)
        latencies.append(float("inf") if first is None else first - fake.offered[(chat, mid)])
    return latencies


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]
