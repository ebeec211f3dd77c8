"""Quota policy and balance math. Balances are derived from the ledger, never kept as a counter.

Ledger model. Every row is one of `grant`, `hold`, `capture`, `release`, with positive units and a
`source` saying which allowance the units belong to:

- `daily`      the user's own allowance, `daily_units` per window (a calendar day in the community's
               timezone, or a rolling 24 h). Spent = holds - releases charged inside the window.
- `grant`      units an admin granted to one user. They do not expire; spent after the daily allowance.
- `pool_daily` the community pool, `pool_units` per window shared by everyone (off when None).
- `pool_grant` units an admin granted to the community pool (`grant(user_id=None)`); do not expire.
- `unlimited`  holds of admins when the policy makes admins unlimited: traced, never counted.

A job draws in that order — own daily allowance first, then own grants, then the pool — and may split
across sources (one hold row per source). Capture and release copy each hold row (same source, units
and `window_at`), so a job released tomorrow gives the units back to the day it was charged against.
For every job: holds = captures + releases once it is final, and captures = releases = 0 before.

Windows cannot be gamed (core.store.windows has the proof sketch): a change of `window` or `timezone` at
instant n leaves a floor, so that for every t from n to the end of the window in force before the change,
window_start(new, t) <= window_start(old, t) — no charge the old rules still counted is freed by the
change, `available` never rises at the instant of a change, and no window shorter than a local day is
ever created, so daily-source spend over S hours is at most daily_units x (ceil(S / 23) + 1).
Above all of this sit the operator's caps (core.limits, core.store.caps): a community's daily_units and
pool_units are clamped to the operator's maxima, and a person's spend across every community is capped.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import aiosqlite

from core.errors import InvalidParameter
from core.store.windows import next_midnight, window_start
from core.store.windows import resets_at as window_resets_at
from core.types import FINAL_STATES

__all__ = ["next_midnight", "window_start"]  # re-exported: callers read windows through this module

DAY = 86_400.0
DAILY, GRANT, POOL_DAILY, POOL_GRANT, UNLIMITED = "daily", "grant", "pool_daily", "pool_grant", "unlimited"
DRAW_ORDER = (DAILY, GRANT, POOL_DAILY, POOL_GRANT)
WINDOWS = ("calendar", "rolling")
MAX_UNITS = 1_000_000


@dataclass(frozen=True, slots=True)
class Policy:
    """A community's quota and character settings, as an admin sets them."""

    scope_id: str
    daily_units: int = 40
    window: str = "calendar"  # "calendar" day in `timezone`, or "rolling" 24 h
    timezone: str = "UTC"
    pool_units: int | None = None  # community pool per window; None = no pool
    unlimited_admins: bool = False
    model_weights: dict[str, int] = field(default_factory=dict)  # model key -> units per image
    character_limit: int = 50
    # Left by a window/timezone change (core.store.windows): the old window's start, kept until then.
    floor_at: float | None = None
    floor_until: float | None = None

    def weight_for(self, model: str, default: int) -> int:
        return self.model_weights.get(model, default)

    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


def _units(name: str, value: Any, *, allow_none: bool = False, low: int = 0) -> int | None:
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= MAX_UNITS:
        raise InvalidParameter(f"{name} must be a whole number from {low} to {MAX_UNITS}.", param=name)
    return value


def apply_changes(policy: Policy, changes: Mapping[str, Any], *, max_daily: int | None = None,
                  max_pool: int | None = None) -> Policy:
    """Validate an admin's changes; InvalidParameter names the first bad one. `max_daily` / `max_pool`: the
    operator's maximum community allowance (core.limits), which no community setting may exceed."""
    known = {f.name for f in dataclasses.fields(Policy)} - {"scope_id", "floor_at", "floor_until"}
    unknown = sorted(set(changes) - known)
    if unknown:
        raise InvalidParameter(f"Unknown setting {unknown[0]!r}. Settings: {', '.join(sorted(known))}.")
    checked: dict[str, Any] = {}
    for name, value in changes.items():
        if name in ("daily_units", "pool_units"):
            checked[name] = _units(name, value, allow_none=name == "pool_units")
            _within_maximum(name, checked[name], max_daily if name == "daily_units" else max_pool)
        elif name == "character_limit":
            checked[name] = _units(name, value, low=1)
        elif name == "window":
            if value not in WINDOWS:
                raise InvalidParameter("window must be 'calendar' or 'rolling'.", param=name)
            checked[name] = value
        elif name == "timezone":
            checked[name] = _check_timezone(value)
        elif name == "unlimited_admins":
            if not isinstance(value, bool):
                raise InvalidParameter("unlimited_admins must be yes or no.", param=name)
            checked[name] = value
        else:  # model_weights
            if not isinstance(value, Mapping):
                raise InvalidParameter("model_weights must map model names to units.", param=name)
            checked[name] = {str(k): _units(f"weight of {k}", v) for k, v in value.items()}
    return dataclasses.replace(policy, **checked)


def _within_maximum(name: str, value: int | None, maximum: int | None) -> None:
    if value is not None and maximum is not None and value > maximum:
        raise InvalidParameter(f"{name} can be at most {maximum} on this bot: that is the operator's maximum "
                               f"community allowance (asked for {value}).", param=name)


def _check_timezone(value: Any) -> str:
    try:
        ZoneInfo(str(value))
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidParameter(
            f"Unknown timezone {str(value)[:64]!r}. Use a name like Europe/Paris or UTC.", param="timezone"
        ) from None
    return str(value)


@dataclass(frozen=True, slots=True)
class Standing:
    """Units left per source now, and what the user has in flight."""

    available: dict[str, int]
    used_in_window: int  # captured units charged inside the window
    held: int  # holds not yet captured or released
    pool_enabled: bool
    resets_at: float | None

    @property
    def total(self) -> int:
        return sum(self.available.values())


def allocate(available: Mapping[str, int], cost: int) -> list[tuple[str, int]] | None:
    """Split `cost` across sources in draw order; None when they cannot cover it."""
    if cost > sum(available.get(s, 0) for s in DRAW_ORDER):
        return None
    parts: list[tuple[str, int]] = []
    left = cost
    for source in DRAW_ORDER:
        take = min(left, available.get(source, 0))
        if take > 0:
            parts.append((source, take))
            left -= take
    return parts


# One index range per source (see the ledger indexes in core.store.schema): windowed sources read only
# the current window, lifetime sources only their own (rare) rows, so the cost does not grow with history.
_SOURCE_SUMS = """
    SELECT source, kind, SUM(units) FROM ledger
    WHERE scope_id = ? AND platform = ? AND user_id = ? AND source = 'daily' AND window_at >= ?
    GROUP BY source, kind
    UNION ALL
    SELECT source, kind, SUM(units) FROM ledger
    WHERE scope_id = ? AND platform = ? AND user_id = ? AND source = 'grant'
    GROUP BY source, kind
    UNION ALL
    SELECT source, kind, SUM(units) FROM ledger
    WHERE scope_id = ? AND source = 'pool_daily' AND window_at >= ?
    GROUP BY source, kind
    UNION ALL
    SELECT source, kind, SUM(units) FROM ledger
    WHERE scope_id = ? AND source = 'pool_grant'
    GROUP BY source, kind"""

_USED_IN_WINDOW = """
    SELECT SUM(units) FROM ledger
    WHERE scope_id = ? AND platform = ? AND user_id = ?
      AND source IN ('daily', 'grant', 'pool_daily', 'pool_grant', 'unlimited')
      AND window_at >= ? AND kind = 'capture'"""

_FINAL_SQL = ", ".join(f"'{state.value}'" for state in sorted(FINAL_STATES))
_HELD = f"""
    SELECT SUM(cost) FROM jobs
    WHERE scope_id = ? AND platform = ? AND user_id = ?
      AND state NOT IN ({_FINAL_SQL})"""

_OLDEST_CHARGE = """
    SELECT MIN(h.window_at) FROM ledger h
    WHERE h.scope_id = ? AND h.platform = ? AND h.user_id = ? AND h.source = 'daily' AND h.window_at >= ?
      AND h.kind = 'hold'
      AND NOT EXISTS (SELECT 1 FROM ledger r WHERE r.job_id = h.job_id AND r.kind = 'release')"""


async def read_available(
    conn: aiosqlite.Connection, policy: Policy, *, platform: str, user_id: str, now: float,
) -> tuple[dict[str, int], bool]:
    """Units left per source, and whether the community has a pool. Derived from the ledger only."""
    start = window_start(policy, now)
    scope = policy.scope_id
    args = (scope, platform, user_id, start, scope, platform, user_id, scope, start, scope)
    sums: dict[tuple[str, str], int] = {}
    for source, kind, total in await conn.execute_fetchall(_SOURCE_SUMS, args):
        sums[(source, kind)] = int(total or 0)

    def spent(source: str) -> int:
        return sums.get((source, "hold"), 0) - sums.get((source, "release"), 0)

    pool_grants = sums.get((POOL_GRANT, "grant"), 0)
    available = {
        DAILY: max(0, policy.daily_units - spent(DAILY)),
        GRANT: max(0, sums.get((GRANT, "grant"), 0) - spent(GRANT)),
        POOL_DAILY: max(0, (policy.pool_units or 0) - spent(POOL_DAILY)),
        POOL_GRANT: max(0, pool_grants - spent(POOL_GRANT)),
    }
    return available, policy.pool_units is not None or pool_grants > 0


async def _scalar(conn: aiosqlite.Connection, sql: str, args: tuple[object, ...]) -> int:
    rows = list(await conn.execute_fetchall(sql, args))
    return int(rows[0][0] or 0) if rows else 0


async def read_standing(
    conn: aiosqlite.Connection, policy: Policy, *, platform: str, user_id: str, now: float,
) -> Standing:
    """The full picture for /quota and for the exhausted message."""
    available, pool_enabled = await read_available(conn, policy, platform=platform, user_id=user_id, now=now)
    who = (policy.scope_id, platform, user_id)
    return Standing(
        available=available,
        used_in_window=await _scalar(conn, _USED_IN_WINDOW, (*who, window_start(policy, now))),
        held=await _scalar(conn, _HELD, who),
        pool_enabled=pool_enabled,
        resets_at=await _resets_at(conn, policy, platform=platform, user_id=user_id, now=now),
    )


async def _resets_at(conn: aiosqlite.Connection, policy: Policy, *, platform: str, user_id: str,
                     now: float) -> float | None:
    fixed = window_resets_at(policy, now)  # a calendar window's end, or the floor a change left behind
    if policy.window == "calendar":
        return fixed
    args = (policy.scope_id, platform, user_id, window_start(policy, now))
    rows = list(await conn.execute_fetchall(_OLDEST_CHARGE, args))
    if not rows or rows[0][0] is None:
        return None
    return max(float(rows[0][0]) + DAY, fixed or 0.0)


def duration(seconds: float) -> str:
    minutes = max(0, math.ceil(seconds / 60))
    if minutes < 1:
        return "under a minute"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if hours else f"{minutes} min"


def exhausted_message(policy: Policy, standing: Standing, *, cost: int, now: float) -> str:
    """One friendly line: what is left, what the job needs, when units come back."""
    left = standing.total
    unit = "unit" if left == 1 else "units"
    period = "today" if policy.window == "calendar" else "in the last 24 h"
    text = f"Quota exhausted: you have {left} {unit} left {period}, this needs {cost}."
    if standing.resets_at is not None:
        when = datetime.fromtimestamp(standing.resets_at, policy.zone()).strftime("%H:%M")
        verb = "Resets at" if policy.window == "calendar" else "Units free up at"
        text += f" {verb} {when} {policy.timezone} (in {duration(standing.resets_at - now)})."
    if cost > policy.daily_units + (policy.pool_units or 0):
        text += " That is more than a full day's allowance: ask an admin to grant units."
    return text
