"""The moderation log: one row per thing a community's admins may need to see later.

Jobs are already their own record (who, where, prompt, model, outcome: the `jobs` table); this log holds
what happens *around* them — a prompt refused by a rule, an image withheld by the safety gate, a member's
report, an admin's delete or ban, a filter changed — so `/admin log` can show both, newest first. `detail`
is a short, already-safe text (never the refused prompt itself: a refusal must not repeat it in public).
"""

from __future__ import annotations

from dataclasses import dataclass

from core.store.database import Database

DETAIL_MAX = 300  # a log line, not a document


@dataclass(frozen=True, slots=True)
class ModEvent:
    event_id: int
    scope_id: str
    platform: str
    kind: str  # e.g. "prompt_blocked", "image_withheld", "report", "output_deleted", "ban", "filter_added"
    user_id: str  # whom it is about (the author of the job or prompt); "" when nobody
    actor_id: str  # who did it ("" for castbot itself)
    job_id: str | None
    detail: str
    created_at: float


_COLUMNS = "event_id, scope_id, platform, kind, user_id, actor_id, job_id, detail, created_at"


def _event(row: tuple) -> ModEvent:
    event_id, scope_id, platform, kind, user_id, actor_id, job_id, detail, created_at = row
    return ModEvent(int(event_id), scope_id, platform, kind, user_id, actor_id, job_id, detail, float(created_at))


class ModLog:
    """Reads and writes `mod_events` on the store's connections (the one writer path for writes)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def record(self, *, scope_id: str, platform: str, kind: str, now: float, user_id: str = "",
                     actor_id: str = "", job_id: str | None = None, detail: str = "") -> None:
        async with self.db.transaction() as conn:
            await conn.execute(
                "INSERT INTO mod_events (scope_id, platform, kind, user_id, actor_id, job_id, detail, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (scope_id, platform, kind, user_id, actor_id, job_id, detail[:DETAIL_MAX], now))

    async def events(self, *, scope_id: str, user_id: str | None = None, since: float | None = None,
                     kinds: tuple[str, ...] = (), limit: int = 20, before_id: int | None = None,
                     platform: str | None = None) -> list[ModEvent]:
        """Newest first; page on with `before_id` = the last event_id of the previous page."""
        sql, args = f"SELECT {_COLUMNS} FROM mod_events WHERE scope_id = ?", [scope_id]
        if platform is not None:
            sql, args = sql + " AND platform = ?", [*args, platform]
        if user_id is not None:
            sql, args = sql + " AND user_id = ?", [*args, user_id]
        if since is not None:
            sql, args = sql + " AND created_at >= ?", [*args, since]
        if kinds:
            sql, args = sql + f" AND kind IN ({', '.join('?' for _ in kinds)})", [*args, *kinds]
        if before_id is not None:
            sql, args = sql + " AND event_id < ?", [*args, before_id]
        rows = await self.db.fetch_all(sql + " ORDER BY event_id DESC LIMIT ?", [*args, max(1, min(limit, 200))])
        return [_event(tuple(row)) for row in rows]

    async def forget_before(self, cutoff: float) -> int:
        """Retention: drop events older than `cutoff`; returns how many went."""
        async with self.db.transaction() as conn:
            cur = await conn.execute("DELETE FROM mod_events WHERE created_at < ?", (cutoff,))
            return cur.rowcount or 0
