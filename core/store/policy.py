"""SQL for community policies, bans and ledger rows; SqliteStore calls these inside its transactions."""

from __future__ import annotations

import json
from typing import Any

import aiosqlite

from core.limits import OperatorLimits
from core.store import caps, quota
from core.store.quota import Policy
from core.types import QuotaView, StatsView

NO_LIMITS = OperatorLimits()


async def read_policy(conn: aiosqlite.Connection, scope_id: str, *, default_daily_units: int,
                      limits: OperatorLimits = NO_LIMITS) -> Policy:
    """The community's policy, clamped to the operator's maxima (a value stored before a maximum was lowered
    reads as the maximum; the stored row keeps the admin's own figure)."""
    rows = list(await conn.execute_fetchall(
        "SELECT daily_units, quota_window, timezone, pool_units, unlimited_admins, model_weights, "
        "character_limit, window_floor, floor_until FROM scope_settings WHERE scope_id = ?", (scope_id,)))
    if not rows:
        return Policy(scope_id=scope_id, daily_units=limits.clamp_daily(default_daily_units))
    daily, window, timezone, pool, unlimited, weights, limit, floor_at, floor_until = rows[0]
    return Policy(
        scope_id=scope_id, daily_units=limits.clamp_daily(default_daily_units if daily is None else int(daily)),
        window=window, timezone=timezone, pool_units=limits.clamp_pool(None if pool is None else int(pool)),
        unlimited_admins=bool(unlimited), model_weights={str(k): int(v) for k, v in json.loads(weights).items()},
        character_limit=int(limit), floor_at=floor_at, floor_until=floor_until,
    )


async def explicit_daily_units(conn: aiosqlite.Connection, scope_id: str) -> int | None:
    """The community's own daily_units, or None when it follows the operator's default."""
    async with conn.execute("SELECT daily_units FROM scope_settings WHERE scope_id = ?", (scope_id,)) as cur:
        row = await cur.fetchone()
    return None if row is None or row[0] is None else int(row[0])


async def write_policy(conn: aiosqlite.Connection, policy: Policy, *, daily_units: int | None,
                       now: float) -> None:
    """Upsert; `daily_units` None keeps following the operator's default allowance."""
    values = (policy.scope_id, daily_units, policy.window, policy.timezone, policy.pool_units,
              1 if policy.unlimited_admins else 0, json.dumps(policy.model_weights, sort_keys=True),
              policy.character_limit, now, policy.floor_at, policy.floor_until)
    await conn.execute(
        "INSERT INTO scope_settings (scope_id, daily_units, quota_window, timezone, pool_units, "
        "unlimited_admins, model_weights, character_limit, updated_at, window_floor, floor_until) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (scope_id) DO UPDATE SET daily_units = excluded.daily_units, "
        "quota_window = excluded.quota_window, timezone = excluded.timezone, "
        "pool_units = excluded.pool_units, unlimited_admins = excluded.unlimited_admins, "
        "model_weights = excluded.model_weights, character_limit = excluded.character_limit, "
        "updated_at = excluded.updated_at, window_floor = excluded.window_floor, "
        "floor_until = excluded.floor_until", values)


async def is_banned(conn: aiosqlite.Connection, scope_id: str, platform: str, user_id: str) -> bool:
    rows = await conn.execute_fetchall("SELECT 1 FROM bans WHERE scope_id = ? AND platform = ? AND user_id = ?",
                                       (scope_id, platform, user_id))
    return bool(list(rows))


async def write_ban(conn: aiosqlite.Connection, *, scope_id: str, platform: str, user_id: str, banned: bool,
                    now: float) -> None:
    if banned:
        await conn.execute("INSERT INTO bans (scope_id, platform, user_id, created_at) VALUES (?, ?, ?, ?) "
                           "ON CONFLICT (scope_id, platform, user_id) DO NOTHING",
                           (scope_id, platform, user_id, now))
    else:
        await conn.execute("DELETE FROM bans WHERE scope_id = ? AND platform = ? AND user_id = ?",
                           (scope_id, platform, user_id))


async def insert_ledger(conn: aiosqlite.Connection, kind: str, source: str, *, scope_id: str, platform: str,
                        user_id: str | None, job_id: str | None, units: int, window_at: float, now: float,
                        reason: str = "") -> None:
    await conn.execute(
        "INSERT INTO ledger (kind, source, scope_id, platform, user_id, job_id, units, reason, window_at, "
        "created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (kind, source, scope_id, platform, user_id, job_id, units, reason, window_at, now))


async def quota_view(conn: aiosqlite.Connection, policy: Policy, *, platform: str, user_id: str,
                     is_admin: bool, now: float, limits: OperatorLimits = NO_LIMITS) -> QuotaView:
    standing = await quota.read_standing(conn, policy, platform=platform, user_id=user_id, now=now)
    banned = await is_banned(conn, policy.scope_id, platform, user_id)
    unlimited = is_admin and policy.unlimited_admins
    pool = standing.available[quota.POOL_DAILY] + standing.available[quota.POOL_GRANT]
    balance = None if unlimited else (0 if banned else standing.total)
    cap, capped = limits.person_daily_units, False
    if cap is not None and not limits.is_operator(platform, user_id):
        left = max(0, cap - await caps.person_spent(conn, platform=platform, user_id=user_id, now=now))
        capped = balance is None or left < balance
        balance = min(balance, left) if balance is not None else left
    return QuotaView(
        balance=balance, daily_units=policy.daily_units, used_today=standing.used_in_window, held=standing.held,
        resets_at=standing.resets_at, pool_balance=pool if standing.pool_enabled else None, banned=banned,
        personal_cap=cap if cap is not None and not limits.is_operator(platform, user_id) else None,
        capped_by_operator=capped,
    )


async def ledger_totals(conn: aiosqlite.Connection) -> dict[str, int]:
    async with conn.execute("SELECT kind, SUM(units) FROM ledger GROUP BY kind") as cur:
        totals = {kind: int(units or 0) for kind, units in await cur.fetchall()}
    return {kind: totals.get(kind, 0) for kind in ("grant", "hold", "capture", "release")}


_AUDIT = """
    SELECT j.job_id, j.state, j.cost,
      COALESCE(SUM(CASE WHEN l.kind = 'hold' THEN l.units ELSE 0 END), 0),
      COALESCE(SUM(CASE WHEN l.kind = 'capture' THEN l.units ELSE 0 END), 0),
      COALESCE(SUM(CASE WHEN l.kind = 'release' THEN l.units ELSE 0 END), 0)
    FROM jobs j LEFT JOIN ledger l ON l.job_id = j.job_id
    GROUP BY j.job_id, j.state, j.cost"""


async def audit(conn: aiosqlite.Connection, final_states: frozenset[str]) -> list[str]:
    """Every way the ledger disagrees with the jobs, as readable lines; [] when it reconciles."""
    problems: list[str] = []
    async with conn.execute(_AUDIT) as cur:
        rows: list[Any] = list(await cur.fetchall())
    for job_id, state, cost, held, captured, released in rows:
        if held != cost:
            problems.append(f"job {job_id}: holds {held} != cost {cost}")
        settled = captured + released
        if state in final_states and settled != held:
            problems.append(f"job {job_id} ({state}): settled {settled} != held {held}")
        if state not in final_states and settled:
            problems.append(f"job {job_id} ({state}): settled {settled} before finishing")
        # a withheld job is settled one way or the other, as the operator chose, never half and half
        charged_ok = {"delivered", "withheld"}
        if (state == "delivered" and released) or (state in final_states - charged_ok and captured) or (
                state == "withheld" and captured and released):
            problems.append(f"job {job_id} ({state}): wrong settlement kind")
    async with conn.execute("SELECT COUNT(*) FROM ledger l WHERE l.job_id IS NOT NULL AND NOT EXISTS "
                            "(SELECT 1 FROM jobs j WHERE j.job_id = l.job_id)") as cur:
        row = await cur.fetchone()
    if row and row[0]:
        problems.append(f"{row[0]} ledger rows point at no job")
    return problems


async def scope_stats(conn: aiosqlite.Connection, scope_id: str) -> StatsView:
    async def one(sql: str) -> int:
        async with conn.execute(sql, (scope_id,)) as cur:
            row = await cur.fetchone()
        return int(row[0] or 0) if row else 0

    async with conn.execute("SELECT state, COUNT(*) FROM jobs WHERE scope_id = ? GROUP BY state", (scope_id,)) as cur:
        by_state = {state: int(count) for state, count in await cur.fetchall()}
    return StatsView(
        jobs_by_state=by_state,
        units_spent=await one("SELECT SUM(units) FROM ledger WHERE scope_id = ? AND kind = 'capture'"),
        users=await one("SELECT COUNT(*) FROM (SELECT DISTINCT platform, user_id FROM jobs WHERE scope_id = ?) u"),
        characters=await one("SELECT COUNT(*) FROM characters WHERE scope_id = ?"),
    )
