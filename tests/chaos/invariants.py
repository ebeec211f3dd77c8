"""The promises checked after a chaos run, from the SQLite file (read-only) and the fakes' records.

Each check returns human-readable violation lines; counts worth reporting go into `Figures`.
"""

from __future__ import annotations

import itertools
import json
import sqlite3
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.chaos.fake_telegram import ChaosTelegramServer
from tests.fakes.telegram import Call

FINAL = ("delivered", "failed", "cancelled", "expired", "withheld")
STATE_WORDS = {"failed": "Failed", "cancelled": "Cancelled", "expired": "Expired", "delivered": "Done",
               "withheld": "Not posted"}
MESSAGE_METHODS = ("sendMessage", "editMessageText", "sendPhoto", "sendMediaGroup", "sendDocument")
GROUP_WINDOW, GROUP_MAX = 60.0, 20  # Telegram: at most 20 messages a minute in a group
PRIVATE_GAP = 1.0  # about one message a second in a private chat
JITTER = 0.25  # arrival stamps on a loaded 2-core machine
KILL_GRACE = 15.0  # seconds after a kill in which a restart may legitimately repeat or lose a step
MEMORY_GROWTH = 0.20


@dataclass
class Figures:
    jobs: Counter[str] = field(default_factory=Counter)
    deliveries: int = 0
    duplicates: int = 0
    duplicates_after_kill: int = 0
    refunds: int = 0
    stranded_after_kill: int = 0
    untold_after_kill: int = 0
    extra_segmind_submits: int = 0


def connect_ro(db: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)


def jobs(db: Path) -> list[dict[str, Any]]:
    with connect_ro(db) as conn:
        conn.row_factory = sqlite3.Row
        return [dict(r) for r in conn.execute("SELECT * FROM jobs")]


def ledger_violations(db: Path, figures: Figures) -> list[str]:
    """Per job: held = cost; final jobs settled in full, delivered captured, others released; totals add up."""
    problems: list[str] = []
    with connect_ro(db) as conn:
        rows = conn.execute(
            "SELECT j.job_id, j.state, j.cost,"
            " COALESCE(SUM(CASE WHEN l.kind='hold' THEN l.units END), 0),"
            " COALESCE(SUM(CASE WHEN l.kind='capture' THEN l.units END), 0),"
            " COALESCE(SUM(CASE WHEN l.kind='release' THEN l.units END), 0),"
            " COUNT(CASE WHEN l.kind='capture' THEN 1 END)"
            " FROM jobs j LEFT JOIN ledger l ON l.job_id = j.job_id GROUP BY j.job_id").fetchall()
        totals = dict(conn.execute("SELECT kind, SUM(units) FROM ledger GROUP BY kind").fetchall())
        orphans = conn.execute("SELECT COUNT(*) FROM ledger WHERE job_id IS NOT NULL AND job_id NOT IN "
                               "(SELECT job_id FROM jobs)").fetchone()[0]
    open_holds = 0
    for job_id, state, cost, held, captured, released, captures in rows:
        if held != cost:
            problems.append(f"job {job_id}: held {held} but costs {cost}")
        if captures > 1 or captured > cost:
            problems.append(f"job {job_id}: charged twice ({captures} captures, {captured} units)")
        if state == "delivered" and (captured != held or released):
            problems.append(f"job {job_id} delivered: captured {captured}, released {released} of {held}")
        elif state == "withheld" and sorted((captured, released)) != [0, held]:  # settled one way, as set
            problems.append(f"job {job_id} withheld: captured {captured}, released {released} of {held}")
        elif state in FINAL and state not in ("delivered", "withheld") and (released != held or captured):
            problems.append(f"job {job_id} {state}: hold not released ({released} of {held}, captured {captured})")
        elif state not in FINAL:
            open_holds += held - captured - released
        if state in FINAL and state != "delivered":
            figures.refunds += 1
    hold, capture, release = (int(totals.get(k) or 0) for k in ("hold", "capture", "release"))
    if hold != capture + release + open_holds:
        problems.append(f"ledger: holds {hold} != captures {capture} + releases {release} + open {open_holds}")
    if orphans:
        problems.append(f"ledger: {orphans} rows point at no job")
    return problems


def _result_job(call: Call) -> str | None:
    markup = call.params.get("reply_markup") or {}
    for row in markup.get("inline_keyboard", []) if isinstance(markup, dict) else []:
        for button in row:
            data = str(button.get("callback_data") or "")
            if data.startswith("rr:"):
                return data[3:]
    return None


def delivery_violations(fake: ChaosTelegramServer, rows: list[dict[str, Any]], kills: list[float],
                        figures: Figures, *, wall_to_mono: float) -> list[str]:
    """Every job final; delivered jobs delivered (twice only around a kill); others told why."""
    problems: list[str] = []
    sent: dict[str, list[Call]] = defaultdict(list)
    for call in fake.calls:
        if call.status == 200 and call.method in ("sendPhoto", "sendMessage"):
            job = _result_job(call)
            if job is not None:
                sent[job].append(call)
    for row in rows:
        figures.jobs[row["state"]] += 1
        job_id, state = row["job_id"], row["state"]
        deliveries = sent.get(job_id, [])
        if state not in FINAL:
            problems.append(f"job {job_id} never finished: still {state}")
            continue
        if state == "delivered":
            figures.deliveries += 1
            if not deliveries:
                problems.append(f"job {job_id} is delivered but no result reached chat {row['chat_id']}")
            elif len(deliveries) > 1:
                first, last = deliveries[0].at, deliveries[-1].at
                if any(first - 1.0 <= k <= last for k in kills):
                    figures.duplicates_after_kill += len(deliveries) - 1
                else:
                    figures.duplicates += len(deliveries) - 1
                    problems.append(f"job {job_id} delivered {len(deliveries)} times with no kill between")
            continue
        if deliveries:
            problems.append(f"job {job_id} is {state} but its result was sent")
        untold = _told_why(fake, row)
        finished = (row["finished_at"] or 0.0) + wall_to_mono
        if untold and any(finished - 1.0 <= k <= finished + KILL_GRACE for k in kills):
            figures.untold_after_kill += 1  # the final edit was still queued when the process died
        else:
            problems += untold
    return problems


def _told_why(fake: ChaosTelegramServer, row: dict[str, Any]) -> list[str]:
    ref = json.loads(row["reply_ref"])
    # "m" is None while the job's status message was never posted (the job is written first)
    status = None if ref.get("m") is None else fake.messages.get((int(ref["c"]), int(ref["m"])))
    word = STATE_WORDS[row["state"]]
    if status is None or word not in str(status.get("text", "")):
        shown = None if status is None else str(status.get("text", ""))[:80]
        return [f"job {row['job_id']} {row['state']}: the user was not told (status {ref['c']}/{ref['m']} shows "
                f"{shown!r})"]
    if row["state"] == "failed" and len(str(status.get("text", "")).splitlines()) < 2:
        return [f"job {row['job_id']} failed without a reason shown"]
    return []


def stranded_violations(fake: ChaosTelegramServer, rows: list[dict[str, Any]], kills: list[float],
                        figures: Figures) -> list[str]:
    """A "⏳ Accepted" placeholder left as is, with no job behind it, means a command was lost.

    The Telegram adapter no longer posts placeholders (it writes the job first, then posts the status), so
    this guards against their return; lost commands are caught by the driver's unanswered-command check.
    """
    refs = set()
    for row in rows:
        ref = json.loads(row["reply_ref"])
        if ref.get("m") is not None:
            refs.add((int(ref["c"]), int(ref["m"])))
    problems = []
    for (chat, mid), msg in fake.messages.items():
        if not msg["from"]["is_bot"] or not str(msg.get("text", "")).startswith("⏳ Accepted"):
            continue
        if (chat, mid) in refs:
            continue
        sent_at = fake.sent_at.get((chat, mid), 0.0)
        if any(sent_at - 1.0 <= k <= sent_at + KILL_GRACE for k in kills):
            figures.stranded_after_kill += 1
        else:
            problems.append(f"chat {chat}: status message {mid} stuck at 'Accepted' with no job behind it")
    return problems


def pace_violations(fake: ChaosTelegramServer, kills: list[float]) -> list[str]:
    """Messages per chat within Telegram's limits; a window holding a restart is excused (state is lost)."""
    by_chat: dict[int, list[float]] = defaultdict(list)
    for call in fake.calls:
        if call.method in MESSAGE_METHODS and call.status == 200 and call.chat_id is not None:
            by_chat[call.chat_id].append(call.at)
    problems: list[str] = []
    for chat, stamps in by_chat.items():
        stamps.sort()
        if chat < 0:
            for i in range(len(stamps) - GROUP_MAX):
                start, end = stamps[i], stamps[i + GROUP_MAX]
                if end - start < GROUP_WINDOW - JITTER and not any(start - 5 <= k <= end for k in kills):
                    problems.append(f"group {chat}: {GROUP_MAX + 1} messages within {end - start:.1f} s")
                    break
        else:
            for a, b in itertools.pairwise(stamps):
                if b - a < PRIVATE_GAP - JITTER and not any(a - 5 <= k <= b for k in kills):
                    problems.append(f"chat {chat}: two messages {b - a:.2f} s apart")
                    break
    return problems


def secret_violations(logs: str, secrets: list[str]) -> list[str]:
    return [f"a secret ({s[:3]}…) appears in the logs" for s in secrets if s and s in logs]


def memory_violations(after_warmup_kib: int, at_end_kib: int) -> list[str]:
    if after_warmup_kib and at_end_kib > after_warmup_kib * (1 + MEMORY_GROWTH):
        return [f"memory grew from {after_warmup_kib} KiB to {at_end_kib} KiB (> {MEMORY_GROWTH:.0%})"]
    return []


def backup_violations(copy: Path) -> list[str]:
    """The mid-run copy opens, passes integrity_check, and its ledger is self-consistent."""
    if not copy.is_file():
        return ["the mid-run backup was not written"]
    with connect_ro(copy) as conn:
        verdict = conn.execute("PRAGMA integrity_check").fetchone()[0]
        if verdict != "ok":
            return [f"the backup fails integrity_check: {verdict}"]
        bad = conn.execute(
            "SELECT COUNT(*) FROM jobs j WHERE j.cost != (SELECT COALESCE(SUM(units), 0) FROM ledger l"
            " WHERE l.job_id = j.job_id AND l.kind = 'hold')").fetchone()[0]
    return [f"the backup has {bad} jobs whose hold does not match their cost"] if bad else []
