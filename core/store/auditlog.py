"""The store side of the audit trail: a community's jobs as log rows, reports, and where results were posted.

Jobs are already their own record (core.store.jobs); `/admin log` reads them here as flat `LogJob` rows
merged with the moderation log (core.store.modlog). A report is written only once per member and job, in
the same transaction that checks for an earlier one, so a flood of presses writes one row. A job's result
messages are kept as the adapter's opaque handles, so a removal from the log can delete them later.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import aiosqlite

from core.store.database import Database

REPORT = "report"
MAX_ROWS = 500  # one read of the log; the CSV export pages on with `offset`


@dataclass(frozen=True, slots=True)
class LogJob:
    job_id: str
    platform: str
    user_id: str
    user_name: str
    chat_id: str
    model: str
    prompt: str
    state: str
    error: str | None
    cost: int
    created_at: float


_JOB_COLUMNS = "job_id, platform, user_id, user_name, chat_id, model, prompt, state, error, cost, created_at"


class AuditStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def jobs(self, *, scope_id: str, platform: str | None = None, user_id: str | None = None,
                   since: float | None = None, limit: int = 20, offset: int = 0) -> list[LogJob]:
        """A community's jobs (on one platform, when given), newest first; `offset` pages on (the CSV export)."""
        sql, args = f"SELECT {_JOB_COLUMNS} FROM jobs WHERE scope_id = ?", [scope_id]
        for clause, value in (("platform = ?", platform), ("user_id = ?", user_id), ("created_at >= ?", since)):
            if value is not None:
                sql, args = f"{sql} AND {clause}", [*args, value]
        rows = await self.db.fetch_all(f"{sql} ORDER BY created_at DESC, job_id DESC LIMIT ? OFFSET ?",
                                       [*args, max(1, min(limit, MAX_ROWS)), max(0, offset)])
        return [LogJob(*row[:9], int(row[9]), float(row[10])) for row in rows]

    async def report_once(self, *, scope_id: str, platform: str, job_id: str, user_id: str, actor_id: str,
                          now: float, day_cap: int) -> str:
        """"new" when written, "repeat" when this member already reported this job, "cap" when they reported
        `day_cap` jobs in the last day. Checked and written in one transaction: concurrent presses write one."""
        async with self.db.transaction() as conn:
            if await _count(conn, "SELECT COUNT(*) FROM mod_events WHERE job_id = ? AND kind = ? AND actor_id = ? "
                                  "AND platform = ?", (job_id, REPORT, actor_id, platform)):
                return "repeat"
            if await _count(conn, "SELECT COUNT(*) FROM mod_events WHERE kind = ? AND actor_id = ? AND platform = ? "
                                  "AND created_at >= ?", (REPORT, actor_id, platform, now - 86_400)) >= day_cap:
                return "cap"
            await conn.execute(
                "INSERT INTO mod_events (scope_id, platform, kind, user_id, actor_id, job_id, detail, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?, '', ?)", (scope_id, platform, REPORT, user_id, actor_id, job_id, now))
            return "new"

    # --- where a job's results were posted ---------------------------------------------------------

    async def save_messages(self, job_id: str, refs: Sequence[str]) -> None:
        async with self.db.transaction() as conn:
            start = await _count(conn, "SELECT COUNT(*) FROM job_messages WHERE job_id = ?", (job_id,))
            await conn.executemany("INSERT INTO job_messages (job_id, position, ref) VALUES (?, ?, ?)",
                                   [(job_id, start + n, ref) for n, ref in enumerate(refs)])

    async def messages(self, job_id: str) -> list[str]:
        rows = await self.db.fetch_all("SELECT ref FROM job_messages WHERE job_id = ? ORDER BY position", (job_id,))
        return [row[0] for row in rows]

    async def drop_results(self, job_id: str) -> None:
        """Forget a removed job's output rows and message handles (the files are the caller's to delete)."""
        async with self.db.transaction() as conn:
            await conn.execute("DELETE FROM job_outputs WHERE job_id = ?", (job_id,))
            await conn.execute("DELETE FROM job_messages WHERE job_id = ?", (job_id,))


async def forget_user_events(conn: aiosqlite.Connection, *, platform: str, user_id: str, tag: str) -> int:
    """/forget_me: the person's id leaves the moderation log (both as author and as actor) and so does any
    detail text; the events themselves stay, as the job rows do, so a community's record still adds up."""
    changed = 0
    for column in ("user_id", "actor_id"):
        cur = await conn.execute(f"UPDATE mod_events SET {column} = ?, detail = '' "
                                 f"WHERE platform = ? AND {column} = ?", (tag, platform, user_id))
        changed += cur.rowcount or 0
    return changed


async def _count(conn: aiosqlite.Connection, sql: str, args: Sequence[Any]) -> int:
    async with conn.execute(sql, args) as cur:
        row = await cur.fetchone()
    return int(row[0]) if row else 0
