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
from tests.chaos.invariants import connect_ro
from tests.chaos.scenario import bot_replies, button_data, until
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
    return out


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
    for case in group:  # one group chat, one after another
        assert case.chat is not None and case.user is not None
        problems += await _play_case(fake, db, case, case.chat, case.user, transcript)
    if _characters(db) != before:
        problems.append(f"hostile saves changed the characters: {before} -> {_characters(db)}")
    played = len(all_cases)
    if pre_restart is not None:
        played += 2
        problems += await _presses(fake, db, pre_restart, intruder, transcript)
    return played, problems


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
