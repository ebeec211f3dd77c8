"""SQLite store: jobs, the quota ledger, community policies and bans (characters: core.characters).

Every read-modify-write goes through the one writer path, `transaction()`, and reads that must agree
through `snapshot()` (both in core.store.database, which says why). SQL stays portable (ON CONFLICT
upserts, CASE, NOT EXISTS) so a Postgres store can implement the same methods. The quota ledger model
(sources, draw order, windows, community pool) is described in core.store.quota.
"""

from __future__ import annotations

import dataclasses
import logging
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import aiosqlite

from core.clock import Clock
from core.errors import InvalidParameter, QuotaExhausted
from core.limits import OperatorLimits
from core.permissions import Action, Role, refused
from core.store import caps, quota, windows
from core.store import policy as sp
from core.store.database import SYNCHRONOUS, Connections, Database, StepHook, open_connections
from core.store.jobs import (
    INSERT_COLUMNS,
    SELECT_COLUMNS,
    JobRecord,
    NewJob,
    job_values,
    read_job,
    record_from_new,
    require_job,
    touch_user_and_scope,
    with_outputs_many,
)
from core.store.policy import NO_LIMITS
from core.store.quota import Policy
from core.store.writer import MAX_BATCH
from core.types import FINAL_STATES, JobState, QuotaView, StatsView

log = logging.getLogger(__name__)

__all__ = ["JobRecord", "NewJob", "Policy", "SqliteStore"]


class SqliteStore(Database):
    """Jobs, the quota ledger, policies and bans, on the connections of `Database`."""

    def __init__(self, conns: Connections, *, clock: Clock, data_dir: Path, default_daily_units: int,
                 on_step: StepHook | None, max_batch: int = MAX_BATCH, limits: OperatorLimits = NO_LIMITS) -> None:
        super().__init__(conns, on_step=on_step, max_batch=max_batch)
        self.clock = clock
        self.data_dir = data_dir
        self.default_daily_units = default_daily_units
        self.limits = limits  # the operator's caps above every community (core.limits)
        self.ceiling = caps.Ceiling(limits)

    @classmethod
    async def open(
        cls, path: str | Path, *, clock: Clock, data_dir: Path | None = None, default_daily_units: int = 40,
        on_step: StepHook | None = None, synchronous: str = SYNCHRONOUS, max_batch: int = MAX_BATCH,
        limits: OperatorLimits = NO_LIMITS,
    ) -> SqliteStore:
        """Open (creating and migrating) the database. `on_step` is a fault-injection seam for crash
        tests: awaited inside write transactions after each step, with the step's name."""
        conns = await open_connections(path, synchronous=synchronous)
        base = Path(path).parent if str(path) != ":memory:" else Path(".")
        store = cls(conns, clock=clock, data_dir=data_dir or base, default_daily_units=default_daily_units,
                    on_step=on_step, max_batch=max_batch, limits=limits)
        store.start()
        return store

    # --- jobs ----------------------------------------------------------------------------------

    async def create_job(self, new: NewJob) -> tuple[JobRecord, bool]:
        """Write the job and its hold in one transaction; a known idem_key returns the existing job."""
        values = job_values(new)  # validates and serializes before any lock is taken
        now = self.clock.now()
        async with self.transaction() as conn:
            existing = await read_job(conn, "idem_key", new.idem_key)
            if existing is not None:
                return existing, False
            if await sp.is_banned(conn, new.scope_id, new.platform, new.user_id):
                # core.permissions already refused; this catches a ban written since (same words)
                raise refused(Action.GENERATE, Role.BANNED)
            policy = await self.policy_on(conn, new.scope_id)
            holds = await self._allocate(conn, policy, new, now)
            await touch_user_and_scope(conn, new, now)
            job_id = uuid.uuid4().hex[:12]
            placeholders = ", ".join("?" for _ in INSERT_COLUMNS)
            await conn.execute(f"INSERT INTO jobs ({', '.join(INSERT_COLUMNS)}) VALUES ({placeholders})",
                               (job_id, *values, JobState.ACCEPTED.value, now))
            await self.step("job_inserted")
            for source, units in holds:
                await sp.insert_ledger(conn, "hold", source, scope_id=new.scope_id, platform=new.platform,
                                       user_id=new.user_id, job_id=job_id, units=units, window_at=now, now=now)
            await self.step("holds_inserted")
        created = record_from_new(new, job_id, now)
        log.info("job %s accepted (%s, cost %d, holds %s)", job_id, new.model, new.cost, holds)
        return created, True

    async def _allocate(self, conn: aiosqlite.Connection, policy: Policy, new: NewJob,
                        now: float) -> list[tuple[str, int]]:
        if new.cost == 0:
            return []
        who = {"platform": new.platform, "user_id": new.user_id, "now": now}
        parts: list[tuple[str, int]] | None = [(quota.UNLIMITED, new.cost)]
        if not (new.is_admin and policy.unlimited_admins):
            available, _ = await quota.read_available(conn, policy, **who)
            parts = quota.allocate(available, new.cost)
        if parts is None:
            standing = await quota.read_standing(conn, policy, **who)
            message = quota.exhausted_message(policy, standing, cost=new.cost, now=now)
            raise QuotaExhausted(message, resets_at=standing.resets_at)
        await caps.check(conn, self.limits, self.ceiling, cost=new.cost, **who)  # the operator's, above the community's
        return parts

    async def get_job(self, job_id: str) -> JobRecord | None:
        return await read_job(self._reader, "job_id", job_id)

    async def get_job_by_idem(self, idem_key: str) -> JobRecord | None:
        return await read_job(self._reader, "idem_key", idem_key)

    async def update_job(
        self, job_id: str, *, state: JobState | None = None, remote_ref: str | None = None,
        error: str | None = None, attempts: int | None = None, reply_ref: str | None = None,
        submitted_at: float | None = None, started_at: float | None = None, completed_at: float | None = None,
    ) -> JobRecord:
        """Change a live job's fields. A final job is returned unchanged (finish_job owns final states),
        except for its reply reference: where its status message lives stays true after it ended."""
        if state is not None and state.is_final:
            raise ValueError("final states go through finish_job, which settles the ledger")
        changes = {"state": state.value if state is not None else None, "remote_ref": remote_ref,
                   "error": error, "attempts": attempts, "reply_ref": reply_ref,
                   "submitted_at": submitted_at, "started_at": started_at, "completed_at": completed_at}
        changes = {k: v for k, v in changes.items() if v is not None}
        async with self.transaction() as conn:
            job = await require_job(conn, job_id)
            if job.state.is_final:
                changes = {k: v for k, v in changes.items() if k == "reply_ref"}
            if not changes:
                return job
            assignments = ", ".join(f"{column} = ?" for column in changes)
            await conn.execute(f"UPDATE jobs SET {assignments} WHERE job_id = ?", (*changes.values(), job_id))
            return await require_job(conn, job_id)

    async def add_outputs(self, job_id: str, paths: Sequence[str]) -> JobRecord:
        async with self.transaction() as conn:
            job = await require_job(conn, job_id)
            start = len(job.outputs)
            for offset, path in enumerate(paths):
                await conn.execute("INSERT INTO job_outputs (job_id, position, path) VALUES (?, ?, ?)",
                                   (job_id, start + offset, str(path)))
            return await require_job(conn, job_id)

    async def finish_job(self, job_id: str, state: JobState, *, error: str | None = None,
                         charge: bool = False) -> tuple[JobRecord, bool]:
        """Move to a final state once: DELIVERED captures the holds, and so does WITHHELD with `charge` (the
        operator keeps withheld jobs' units); any other final state releases them."""
        if not state.is_final:
            raise ValueError(f"{state} is not a final state")
        kind = "capture" if state is JobState.DELIVERED or (charge and state is JobState.WITHHELD) else "release"
        now = self.clock.now()
        async with self.transaction() as conn:
            job = await require_job(conn, job_id)
            if job.state.is_final:
                return job, False
            await conn.execute("UPDATE jobs SET state = ?, error = COALESCE(?, error), finished_at = ? "
                               "WHERE job_id = ?", (state.value, error, now, job_id))
            await self.step("job_finished")
            holds = await conn.execute_fetchall("SELECT source, units, window_at FROM ledger WHERE job_id = ? "
                                                "AND kind = 'hold' ORDER BY entry_id", (job_id,))
            for source, units, window_at in holds:
                await sp.insert_ledger(conn, kind, source, scope_id=job.scope_id, platform=job.platform,
                                       user_id=job.user_id, job_id=job_id, units=units, window_at=window_at,
                                       now=now)
            await self.step("ledger_settled")
        finished = dataclasses.replace(job, state=state, error=error if error is not None else job.error,
                                       finished_at=now)
        log.info("job %s %s (%s %d units)", job_id, state.value, kind, job.cost)
        return finished, True

    async def unfinished_jobs(self) -> list[JobRecord]:
        finals = tuple(s.value for s in JobState if s.is_final)
        marks = ", ".join("?" for _ in finals)
        rows = await self.fetch_all(f"SELECT {SELECT_COLUMNS} FROM jobs WHERE state NOT IN ({marks}) "
                                    "ORDER BY created_at, job_id", finals)
        return await with_outputs_many(self._reader, rows)

    async def finished_since(self, since: float) -> list[JobRecord]:
        """Jobs that reached a final state at or after `since`, oldest first."""
        finals = tuple(s.value for s in JobState if s.is_final)
        marks = ", ".join("?" for _ in finals)
        rows = await self.fetch_all(f"SELECT {SELECT_COLUMNS} FROM jobs WHERE state IN ({marks}) "
                                    "AND finished_at >= ? ORDER BY finished_at, job_id", (*finals, since))
        return await with_outputs_many(self._reader, rows)

    async def history(self, *, scope_id: str, user_id: str | None = None, platform: str | None = None,
                      offset: int = 0, limit: int = 10) -> list[JobRecord]:
        """Newest first, `limit` (at most 100) after skipping `offset`; indexed (jobs_by_user_time, jobs_by_scope)."""
        sql = f"SELECT {SELECT_COLUMNS} FROM jobs WHERE scope_id = ?"
        args: list[Any] = [scope_id]
        if user_id is not None:
            sql, args = sql + " AND user_id = ?", [*args, user_id]
        if platform is not None:
            sql, args = sql + " AND platform = ?", [*args, platform]
        rows = await self.fetch_all(sql + " ORDER BY created_at DESC, job_id DESC LIMIT ? OFFSET ?",
                                    [*args, max(1, min(limit, 100)), max(0, offset)])
        return await with_outputs_many(self._reader, rows)

    async def recent_durations(self, model: str, *, limit: int = 20) -> list[float]:
        rows = await self.fetch_all(
            "SELECT completed_at - submitted_at FROM jobs WHERE model = ? AND completed_at IS NOT NULL "
            "AND submitted_at IS NOT NULL AND state IN ('completed', 'delivered') "
            "ORDER BY completed_at DESC LIMIT ?", (model, limit))
        return [float(r[0]) for r in rows if r[0] is not None and r[0] >= 0]

    async def job_counts(self, *, scope_id: str | None = None) -> dict[str, int]:
        where, args = ("WHERE scope_id = ?", (scope_id,)) if scope_id is not None else ("", ())
        rows = await self.fetch_all(f"SELECT state, COUNT(*) FROM jobs {where} GROUP BY state", args)
        return {state: int(count) for state, count in rows}

    # --- quota -----------------------------------------------------------------------------------

    async def quota(self, *, platform: str, user_id: str, scope_id: str, is_admin: bool = False) -> QuotaView:
        async with self.snapshot() as conn:
            return await sp.quota_view(conn, await self.policy_on(conn, scope_id), platform=platform,
                                       user_id=user_id, is_admin=is_admin, now=self.clock.now(), limits=self.limits)

    async def policy(self, scope_id: str) -> Policy:
        return await self.policy_on(self._reader, scope_id)

    async def policy_on(self, conn: aiosqlite.Connection, scope_id: str) -> Policy:
        return await sp.read_policy(conn, scope_id, default_daily_units=self.default_daily_units, limits=self.limits)

    async def set_policy(self, scope_id: str, **changes: Any) -> Policy:
        """Change a community's settings (see core.store.quota.Policy); InvalidParameter names a bad value."""
        async with self.transaction() as conn:
            current, now = await self.policy_on(conn, scope_id), self.clock.now()
            updated = quota.apply_changes(current, changes, max_daily=self.limits.max_community_daily_units,
                                          max_pool=self.limits.max_community_pool_units)
            updated = windows.rebase(current, updated, now)  # a new window/timezone cannot refill used units
            explicit = updated.daily_units if "daily_units" in changes else await sp.explicit_daily_units(
                conn, scope_id)
            await sp.write_policy(conn, updated, daily_units=explicit, now=now)
        return updated

    async def grant(self, *, scope_id: str, platform: str, user_id: str | None, units: int, reason: str = "") -> None:
        """Give a user (or, with user_id None, the community pool) extra units that do not expire."""
        if isinstance(units, bool) or not isinstance(units, int) or not 0 < units <= quota.MAX_UNITS:
            raise InvalidParameter(f"Grant a whole number of units from 1 to {quota.MAX_UNITS}.")
        now = self.clock.now()
        source = quota.GRANT if user_id is not None else quota.POOL_GRANT
        async with self.transaction() as conn:
            await sp.insert_ledger(conn, "grant", source, scope_id=scope_id, platform=platform, user_id=user_id,
                                   job_id=None, units=units, window_at=now, now=now, reason=reason[:200])

    async def set_ban(self, *, scope_id: str, platform: str, user_id: str, banned: bool) -> None:
        async with self.transaction() as conn:
            await sp.write_ban(conn, scope_id=scope_id, platform=platform, user_id=user_id, banned=banned,
                               now=self.clock.now())

    async def remember_username(self, *, platform: str, chat_id: str, username: str, user_id: str) -> None:
        """The last user seen posting as @username in a chat (a username can move to another account)."""
        async with self.transaction() as conn:
            await conn.execute(
                "INSERT INTO seen_users (platform, chat_id, username_key, user_id, seen_at) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT (platform, chat_id, username_key) DO UPDATE SET user_id = excluded.user_id, "
                "seen_at = excluded.seen_at", (platform, chat_id, username_key(username), user_id, self.clock.now()))

    async def seen_username(self, *, platform: str, chat_id: str, username: str) -> str | None:
        row = await self.fetch_one("SELECT user_id FROM seen_users WHERE platform = ? AND chat_id = ? AND "
                                   "username_key = ?", (platform, chat_id, username_key(username)))
        return str(row[0]) if row else None

    async def is_banned(self, *, scope_id: str, platform: str, user_id: str) -> bool:
        return await sp.is_banned(self._reader, scope_id, platform, user_id)

    async def stats(self, scope_id: str) -> StatsView:
        """A community's figures for admins: jobs by state, units captured, users, saved characters."""
        return await sp.scope_stats(self._reader, scope_id)

    async def ledger_totals(self) -> dict[str, int]:
        return await sp.ledger_totals(self._reader)

    async def audit(self) -> list[str]:
        """Disagreements between jobs and the ledger as readable lines; [] when everything reconciles."""
        return await sp.audit(self._reader, frozenset(s.value for s in FINAL_STATES))


def username_key(username: str) -> str:
    """`@Bob`, `bob`: one user name, as platforms compare them (without the @, case-insensitive)."""
    return username.strip().lstrip("@").lower()
