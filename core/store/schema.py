"""The store's schema as numbered migrations, applied at open under `PRAGMA user_version`.

Each migration is a list of portable DDL statements (no SQLite-only column types or tricks beyond
`INTEGER PRIMARY KEY`), so a Postgres store can replay the same list. A database whose version is newer
than the code refuses to open: an older castbot writing to a newer schema could silently damage it.
"""

from __future__ import annotations

import logging

import aiosqlite

from core.errors import CastbotError

log = logging.getLogger(__name__)


class SchemaTooNew(CastbotError):
    """The database was written by a newer castbot."""


MIGRATIONS: tuple[tuple[str, ...], ...] = (
    # 1: users, scopes, settings, bans, characters, jobs, outputs, quota ledger
    (
        """CREATE TABLE users (
            platform TEXT NOT NULL, user_id TEXT NOT NULL, name TEXT NOT NULL DEFAULT '',
            first_seen REAL NOT NULL, last_seen REAL NOT NULL,
            PRIMARY KEY (platform, user_id))""",
        """CREATE TABLE scopes (
            scope_id TEXT PRIMARY KEY, platform TEXT NOT NULL, created_at REAL NOT NULL)""",
        """CREATE TABLE scope_settings (
            scope_id TEXT PRIMARY KEY, daily_units INTEGER, quota_window TEXT NOT NULL,
            timezone TEXT NOT NULL, pool_units INTEGER, unlimited_admins INTEGER NOT NULL,
            model_weights TEXT NOT NULL, character_limit INTEGER NOT NULL, updated_at REAL NOT NULL)""",
        """CREATE TABLE bans (
            scope_id TEXT NOT NULL, platform TEXT NOT NULL, user_id TEXT NOT NULL, created_at REAL NOT NULL,
            PRIMARY KEY (scope_id, platform, user_id))""",
        """CREATE TABLE characters (
            character_id TEXT PRIMARY KEY, scope_id TEXT NOT NULL, platform TEXT NOT NULL,
            owner_id TEXT NOT NULL, name TEXT NOT NULL, name_key TEXT NOT NULL,
            description TEXT NOT NULL, image_path TEXT NOT NULL, image_sha256 TEXT NOT NULL,
            consent_at REAL NOT NULL, created_at REAL NOT NULL,
            upload_url TEXT, uploaded_at REAL,
            UNIQUE (scope_id, name_key))""",
        "CREATE INDEX characters_by_sha ON characters (image_sha256)",
        """CREATE TABLE jobs (
            job_id TEXT PRIMARY KEY, idem_key TEXT NOT NULL UNIQUE, platform TEXT NOT NULL,
            user_id TEXT NOT NULL, user_name TEXT NOT NULL, scope_id TEXT NOT NULL, chat_id TEXT NOT NULL,
            model TEXT NOT NULL, prompt TEXT NOT NULL, payload TEXT NOT NULL, inputs TEXT NOT NULL,
            cost INTEGER NOT NULL, reply_ref TEXT NOT NULL, character_id TEXT, seed INTEGER,
            is_admin INTEGER NOT NULL, state TEXT NOT NULL, remote_ref TEXT, error TEXT,
            attempts INTEGER NOT NULL DEFAULT 0, created_at REAL NOT NULL, submitted_at REAL,
            started_at REAL, completed_at REAL, finished_at REAL)""",
        "CREATE INDEX jobs_by_state ON jobs (state, created_at)",
        "CREATE INDEX jobs_by_scope ON jobs (scope_id, created_at)",
        "CREATE INDEX jobs_by_user ON jobs (scope_id, platform, user_id, state)",
        "CREATE INDEX jobs_by_model ON jobs (model, completed_at)",
        """CREATE TABLE job_outputs (
            job_id TEXT NOT NULL REFERENCES jobs (job_id) ON DELETE CASCADE,
            position INTEGER NOT NULL, path TEXT NOT NULL,
            PRIMARY KEY (job_id, position))""",
        # source: which allowance a unit came from (see core.store.quota); window_at: when the charge was
        # made, so a release or capture counts against the same day as its hold.
        """CREATE TABLE ledger (
            entry_id INTEGER PRIMARY KEY, kind TEXT NOT NULL, source TEXT NOT NULL,
            scope_id TEXT NOT NULL, platform TEXT NOT NULL, user_id TEXT,
            job_id TEXT REFERENCES jobs (job_id), units INTEGER NOT NULL, reason TEXT NOT NULL DEFAULT '',
            window_at REAL NOT NULL, created_at REAL NOT NULL,
            CHECK (kind IN ('grant', 'hold', 'capture', 'release')),
            CHECK (units >= 0))""",
        "CREATE INDEX ledger_by_user ON ledger (scope_id, platform, user_id, source, window_at)",
        "CREATE INDEX ledger_by_source ON ledger (scope_id, source, window_at)",
        "CREATE INDEX ledger_by_job ON ledger (job_id)",
    ),
    # 2: who posted under which @username in a chat: Telegram cannot look a username up, so an admin's
    # `/admin ban @bob` resolves only to someone castbot has seen there.
    (
        """CREATE TABLE seen_users (
            platform TEXT NOT NULL, chat_id TEXT NOT NULL, username_key TEXT NOT NULL, user_id TEXT NOT NULL,
            seen_at REAL NOT NULL,
            PRIMARY KEY (platform, chat_id, username_key))""",
    ),
    # 3: consent as a record, not a flag: who confirmed (the saver) and how ('flag': --consent / the slash
    # option; 'button': the confirmation press; 'character': saved from a job made with the saver's own
    # still-saved character). Rows from before carry '' (their consent_at is all that was kept).
    (
        "ALTER TABLE characters ADD COLUMN consent_by TEXT NOT NULL DEFAULT ''",
        "ALTER TABLE characters ADD COLUMN consent_how TEXT NOT NULL DEFAULT ''",
    ),
    # 4: the moderation log (core.store.modlog): refusals, withheld images, reports, admins' actions.
    (
        """CREATE TABLE mod_events (
            event_id INTEGER PRIMARY KEY, scope_id TEXT NOT NULL, platform TEXT NOT NULL, kind TEXT NOT NULL,
            user_id TEXT NOT NULL DEFAULT '', actor_id TEXT NOT NULL DEFAULT '', job_id TEXT,
            detail TEXT NOT NULL DEFAULT '', created_at REAL NOT NULL)""",
        "CREATE INDEX mod_events_by_scope ON mod_events (scope_id, event_id)",
        "CREATE INDEX mod_events_by_user ON mod_events (scope_id, user_id, event_id)",
        "CREATE INDEX mod_events_by_age ON mod_events (created_at)",
    ),
    # 5: channel ratings and the image safety gate (core.moderation.ratings, core.store.ratings): a place's
    # rating set by its admins, a community's choice for flagged images, and the rating each job was asked
    # under (older jobs count as SFW: the gate checks them, the safe side).
    (
        """CREATE TABLE place_ratings (
            platform TEXT NOT NULL, chat_id TEXT NOT NULL, scope_id TEXT NOT NULL, rating TEXT NOT NULL,
            updated_at REAL NOT NULL,
            PRIMARY KEY (platform, chat_id),
            CHECK (rating IN ('sfw', 'nsfw')))""",
        """CREATE TABLE gate_settings (
            scope_id TEXT PRIMARY KEY, flagged TEXT NOT NULL, updated_at REAL NOT NULL,
            CHECK (flagged IN ('withhold', 'spoiler')))""",
        "ALTER TABLE jobs ADD COLUMN rating TEXT NOT NULL DEFAULT 'sfw'",
    ),
    # 6: operator limits (issue 13). A person's spend across every community (core.store.caps) and the whole
    # instance's spend in 24 h get their own ledger indexes; a window/timezone change leaves a floor under
    # the window start (core.store.windows) so it cannot refill allowances already used.
    (
        "CREATE INDEX ledger_by_person ON ledger (platform, user_id, window_at)",
        "CREATE INDEX ledger_by_time ON ledger (window_at)",
        "ALTER TABLE scope_settings ADD COLUMN window_floor REAL",
        "ALTER TABLE scope_settings ADD COLUMN floor_until REAL",
    ),
    # 7: prompt filters (core.store.filters): a community's word and pattern blocklists, managed by its admins.
    # match_key identifies one (a word's normalized phrase, a pattern itself): "B4nana" and "banana" are one.
    # Who added it is in mod_events (filter_added), so /forget_me has one place less to look.
    (
        """CREATE TABLE prompt_filters (
            scope_id TEXT NOT NULL, kind TEXT NOT NULL, match_key TEXT NOT NULL, value TEXT NOT NULL,
            created_at REAL NOT NULL,
            PRIMARY KEY (scope_id, kind, match_key))""",
    ),
    # 8: a person's history newest first, straight from an index: jobs_by_user ends in state, so
    # /history sorted all of that person's jobs on every call (thousands for a busy one).
    (
        "CREATE INDEX jobs_by_user_time ON jobs (scope_id, platform, user_id, created_at, job_id)",
    ),
    # 9: the platform messages a job's results were posted as (core.store.auditlog), so an admin's removal
    # from the log can delete them on the platform; `ref` is the adapter's own opaque handle.
    (
        """CREATE TABLE job_messages (
            job_id TEXT NOT NULL REFERENCES jobs (job_id) ON DELETE CASCADE,
            position INTEGER NOT NULL, ref TEXT NOT NULL,
            PRIMARY KEY (job_id, position))""",
        "CREATE INDEX mod_events_by_job ON mod_events (job_id, kind, actor_id)",
    ),
)

SCHEMA_VERSION = len(MIGRATIONS)


async def apply_migrations(conn: aiosqlite.Connection) -> int:
    """Bring the schema up to SCHEMA_VERSION, one transaction per migration. Returns the version."""
    async with conn.execute("PRAGMA user_version") as cur:
        row = await cur.fetchone()
    current = int(row[0]) if row else 0
    if current > SCHEMA_VERSION:
        raise SchemaTooNew(
            f"This database has schema version {current}, but this castbot only knows up to "
            f"{SCHEMA_VERSION}. Upgrade castbot (or restore a backup); the database was not changed."
        )
    for version in range(current + 1, SCHEMA_VERSION + 1):
        await conn.execute("BEGIN IMMEDIATE")
        try:
            for statement in MIGRATIONS[version - 1]:
                await conn.execute(statement)
            # PRAGMA cannot take a bound parameter; the version is our own integer.
            await conn.execute(f"PRAGMA user_version = {int(version)}")
            await conn.execute("COMMIT")
        except BaseException:
            await conn.execute("ROLLBACK")
            raise
        log.info("store schema migrated to version %d", version)
    return SCHEMA_VERSION
