"""Per-place ratings and per-community gate choices (core.moderation.ratings says what they mean).

Ratings are kept per chat (a Telegram group, a console scope; on Discord only an admin's narrowing of an
NSFW channel), keyed by platform and chat id; what to do with a flagged image is one choice per community.
"""

from __future__ import annotations

from core.moderation.ratings import Flagged, Rating
from core.store.database import Database


class RatingBook:
    """Reads and writes `place_ratings` and `gate_settings` on the store's connections."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def rating(self, *, platform: str, chat_id: str) -> Rating | None:
        row = await self.db.fetch_one("SELECT rating FROM place_ratings WHERE platform = ? AND chat_id = ?",
                                      (platform, chat_id))
        return Rating(row[0]) if row else None

    async def set_rating(self, *, platform: str, chat_id: str, scope_id: str, rating: Rating, now: float) -> None:
        """Who changed it goes to the admins' log (core.store.modlog), not here: one place to forget a person."""
        async with self.db.transaction() as conn:
            await conn.execute(
                "INSERT INTO place_ratings (platform, chat_id, scope_id, rating, updated_at) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT (platform, chat_id) DO UPDATE SET "
                "scope_id = excluded.scope_id, rating = excluded.rating, updated_at = excluded.updated_at",
                (platform, chat_id, scope_id, rating.value, now))

    async def flagged(self, scope_id: str) -> Flagged:
        row = await self.db.fetch_one("SELECT flagged FROM gate_settings WHERE scope_id = ?", (scope_id,))
        return Flagged(row[0]) if row else Flagged.WITHHOLD

    async def set_flagged(self, scope_id: str, flagged: Flagged, *, now: float) -> None:
        async with self.db.transaction() as conn:
            await conn.execute(
                "INSERT INTO gate_settings (scope_id, flagged, updated_at) VALUES (?, ?, ?) "
                "ON CONFLICT (scope_id) DO UPDATE SET flagged = excluded.flagged, updated_at = excluded.updated_at",
                (scope_id, flagged.value, now))
