"""The hostile sweep's reports: a flood of Report presses, a stranger reporting a job from elsewhere, and the
admins' log asked for by a non-admin and by an admin in a group.

Each must get a clear answer (never the unexpected-error fallback), tell the reporter nothing private (no
prompt, no author), write one report row however many presses arrive, and never put prompts in a group.
"""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

from tests.chaos.fake_telegram import ChaosTelegramServer
from tests.chaos.invariants import connect_ro
from tests.chaos.scenario import bot_replies, button_data, until

OOPS = "Something went wrong on our side"
ANSWER_SECONDS = 30.0
FLOOD = 12  # presses of one member's Report button, all at once
REPORTED = "Reported to the admins"


def _reports(db: Path, job_id: str) -> list[tuple[str, str]]:
    try:
        with connect_ro(db) as conn:
            return conn.execute("SELECT actor_id, user_id FROM mod_events WHERE kind = 'report' AND job_id = ?",
                                (job_id,)).fetchall()
    except sqlite3.OperationalError:
        return []


def _prompt(db: Path, job_id: str) -> str:
    with connect_ro(db) as conn:
        row = conn.execute("SELECT prompt FROM jobs WHERE job_id = ?", (job_id,)).fetchone()
    return str(row[0]) if row else ""


async def _answers(fake: ChaosTelegramServer, queries: list[str]) -> list[str] | None:
    def found() -> list[str] | None:
        calls = {c.params.get("callback_query_id"): str(c.params.get("text", ""))
                 for c in fake.calls_to("answerCallbackQuery")}
        return [calls[q] for q in queries] if all(q in calls for q in queries) else None
    return await until(found, ANSWER_SECONDS)


def with_report(fake: ChaosTelegramServer, chat: int) -> dict[str, Any] | None:
    """A delivered result in `chat` (its message carries the Report button)."""
    return next((m for m in fake.bot_messages(chat) if button_data(m, "rp:")), None)


async def report_sweep(fake: ChaosTelegramServer, db: Path, result: dict[str, Any] | None, reporter: int,
                       stranger_chat: int, stranger: int, transcript: list[str]) -> tuple[int, list[str]]:
    """`result`: a delivered result message with buttons; `reporter` may see it; `stranger` is in another
    community. Returns (cases played, violations)."""
    if result is None or (data := button_data(result, "rp:")) is None:
        return 0, ["reports: no delivered result with a Report button to press"]
    job_id = data.split(":", 1)[1]
    prompt = _prompt(db, job_id)
    problems: list[str] = []
    queries = [fake.press(reporter, result, data) for _ in range(FLOOD)]  # a flood, all in flight at once
    answers = await _answers(fake, queries)
    transcript.append(f"report flood x{FLOOD} [accepted once] -> {(answers or [''])[0]!r}")
    if answers is None:
        problems.append(f"reports: {FLOOD} presses did not all get an answer")
    else:
        leaks = [t for t in answers if (prompt and prompt[:20] in t) or str(reporter) in t]
        # The per-person command rate limit meets a flood of presses too: past the burst one "Slow down", then
        # silence (an empty answer stops the button's spinner). Everything else is the one plain "reported".
        slow = [t for t in answers if t.startswith("Slow down")]
        reported = [t for t in answers if REPORTED in t]
        odd = [t for t in answers if t and REPORTED not in t and not t.startswith("Slow down")]
        if odd or leaks or len(slow) > 1 or not reported or len(set(reported)) != 1 or any(OOPS in t for t in answers):
            problems.append(f"reports: flood answers are not the plain 'reported' (or one slow-down): {set(answers)!r}")
    await asyncio.sleep(0.2)  # the last writes land with their answers; this only lets the reads see them
    if len(_reports(db, job_id)) != 1:
        problems.append(f"reports: {FLOOD} presses by one member wrote {len(_reports(db, job_id))} report rows")
    problems += await _typed(fake, stranger_chat, stranger, f"/report {job_id}", "doesn't exist here", transcript,
                             "a stranger reports a job of another community")
    if len(_reports(db, job_id)) != 1:
        problems.append("reports: a stranger's report of another community's job was written")
    problems += await _typed(fake, stranger_chat, stranger, "/admin log", "Only community admins", transcript,
                             "/admin log by a non-admin")
    problems += await _typed(fake, stranger_chat, stranger, f"/admin remove {job_id} --ban", "", transcript,
                             "/admin remove of another community's job")
    return 4, problems


async def admin_log_in_group(fake: ChaosTelegramServer, group: int, admin: int,
                             transcript: list[str]) -> list[str]:
    """An admin's /admin log in a group: the group gets a pointer, the log goes to the admin's private chat."""
    before = len(fake.bot_messages(admin))
    problems = await _typed(fake, group, admin, "/admin log", "private chat", transcript,
                            "/admin log by an admin in a group")
    if not await until(lambda: len(fake.bot_messages(admin)) > before, ANSWER_SECONDS):
        problems.append("/admin log by an admin: nothing arrived in their private chat")
    return problems


async def _typed(fake: ChaosTelegramServer, chat: int, uid: int, text: str, says: str, transcript: list[str],
                 label: str) -> list[str]:
    mid = fake.offer_text(chat, uid, text)["message_id"]
    answer = await until(lambda: next(iter(bot_replies(fake, chat, mid)), None), ANSWER_SECONDS)
    if answer is None:
        return [f"hostile '{label}': no answer within {ANSWER_SECONDS:.0f} s"]
    said = str(answer.get("text", ""))
    transcript.append(f"{label} [refused] -> {said[:160]!r}")
    if OOPS in said or (says and says not in said):
        return [f"hostile '{label}': expected a clear answer saying {says!r}, got {said[:120]!r}"]
    return []
