"""A community's prompt filters (`prompt_filters`): what its admins added with `/admin filter`.

Writes go through the store's one writer path; the per-community limits are checked inside the same transaction
as the insert, so two admins adding at once can't pass the limit together.
"""

from __future__ import annotations

from core.moderation.errors import FilterRefused
from core.moderation.rules import MAX_PATTERNS, MAX_WORDS, FilterKind, PromptFilter
from core.store.database import Database

LIMITS = {FilterKind.WORD: MAX_WORDS, FilterKind.PATTERN: MAX_PATTERNS}
_COLUMNS = "kind, value, match_key, created_at"


def _filter(row: tuple) -> PromptFilter:
    kind, value, key, created_at = row
    return PromptFilter(FilterKind(kind), value, key, float(created_at))


class FilterStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def add(self, scope_id: str, f: PromptFilter) -> bool:
        """False when the community already had it (the first one's time is kept)."""
        async with self.db.transaction() as conn:
            rows = list(await conn.execute_fetchall(
                "SELECT match_key FROM prompt_filters WHERE scope_id = ? AND kind = ?", (scope_id, f.kind.value)))
            if any(row[0] == f.key for row in rows):
                return False
            if len(rows) >= LIMITS[f.kind]:
                raise FilterRefused(problem="too_many", kind=f.kind.value, limit=LIMITS[f.kind])
            await conn.execute(
                f"INSERT INTO prompt_filters (scope_id, {_COLUMNS}) VALUES (?, ?, ?, ?, ?)",
                (scope_id, f.kind.value, f.value, f.key, f.created_at))
            return True

    async def remove(self, scope_id: str, kind: FilterKind, key: str) -> bool:
        async with self.db.transaction() as conn:
            cur = await conn.execute("DELETE FROM prompt_filters WHERE scope_id = ? AND kind = ? AND match_key = ?",
                                     (scope_id, kind.value, key))
            return bool(cur.rowcount)

    async def filters(self, scope_id: str, *, limit: int | None = None, offset: int = 0) -> list[PromptFilter]:
        """Words first, then patterns, each in the order they were added."""
        sql = f"SELECT {_COLUMNS} FROM prompt_filters WHERE scope_id = ? ORDER BY kind DESC, created_at, match_key"
        args: list[object] = [scope_id]
        if limit is not None:
            sql, args = sql + " LIMIT ? OFFSET ?", [*args, limit, offset]
        return [_filter(tuple(row)) for row in await self.db.fetch_all(sql, args)]
