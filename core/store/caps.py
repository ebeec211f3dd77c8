"""The operator's caps (core.limits), checked inside the store transaction that writes a job's holds.

Both caps are rolling 24 h sums of the ledger's holds minus releases, over every community and source
(`unlimited` admin holds included: the operator pays for those too). Reading and writing in the one
`BEGIN IMMEDIATE` transaction means two jobs started at once, in two groups, cannot both slip under the cap.

- per person: rows of (platform, user_id) in any scope — the ledger_by_person index;
- spend ceiling: every row — the ledger_by_time index.
"""

from __future__ import annotations

from datetime import UTC, datetime

import aiosqlite

from core import metrics
from core.errors import PersonalCapReached, SpendCeilingReached
from core.limits import DAY, CeilingAlarm, OperatorLimits
from core.store.quota import duration

_PERSON_SPENT = """
    SELECT kind, SUM(units) FROM ledger
    WHERE platform = ? AND user_id = ? AND window_at > ? AND kind IN ('hold', 'release')
    GROUP BY kind"""

# Per job (a job's holds share one window_at): what is still charged, oldest first, to say when units free up.
_PERSON_CHARGES = """
    SELECT MIN(window_at), SUM(CASE WHEN kind = 'hold' THEN units ELSE -units END) FROM ledger
    WHERE platform = ? AND user_id = ? AND window_at > ? AND kind IN ('hold', 'release')
    GROUP BY job_id ORDER BY 1"""

_ALL_SPENT = """
    SELECT kind, SUM(units) FROM ledger WHERE window_at > ? AND kind IN ('hold', 'release') GROUP BY kind"""

_OLDEST = "SELECT MIN(window_at) FROM ledger WHERE window_at > ? AND kind = 'hold'"


def _net(rows: object) -> int:
    sums = {kind: int(total or 0) for kind, total in rows}  # type: ignore[attr-defined]
    return sums.get("hold", 0) - sums.get("release", 0)


async def person_spent(conn: aiosqlite.Connection, *, platform: str, user_id: str, now: float) -> int:
    """Units the person has charged (held or captured) in the last 24 h, in every community and DM."""
    return _net(await conn.execute_fetchall(_PERSON_SPENT, (platform, user_id, now - DAY)))


async def person_frees_at(conn: aiosqlite.Connection, *, platform: str, user_id: str, need: int,
                          now: float) -> float | None:
    """When enough of the person's charges have aged out to free `need` more units (None: never by ageing)."""
    freed = 0
    for charged_at, units in await conn.execute_fetchall(_PERSON_CHARGES, (platform, user_id, now - DAY)):
        freed += int(units or 0)
        if freed >= need:
            return float(charged_at) + DAY
    return None


class Ceiling:
    """The spend ceiling's state in this process: the alarm, and an upper bound of the instance's 24 h spend.

    Summing every ledger row of the last 24 h costs time in proportion to the instance's traffic (100 ms at
    100k rows, inside the one write transaction: tests/bench/limits.py). Between two exact sums only holds
    are added to the bound; releases and ageing can only lower the true figure, so a job accepted under the
    bound is also under the ceiling. The exact sum is taken again only when a job does not fit under the
    bound, and at most once per RECHECK seconds while jobs keep being refused (a unit released in that
    second is seen a second later). One writer per database makes this sound: a store shared by several
    processes (a future PostgreSQL one) must sum every time instead.
    """

    RECHECK = 1.0

    def __init__(self, limits: OperatorLimits) -> None:
        self.alarm = CeilingAlarm(limits)
        self._bound: int | None = None
        self._summed_at = float("-inf")

    async def spent(self, conn: aiosqlite.Connection, *, cost: int, ceiling: int, now: float) -> int:
        """An upper bound of the 24 h spend, exact whenever this job might not fit under it."""
        if self._bound is None or (self._bound + cost > ceiling and now - self._summed_at >= self.RECHECK):
            self._bound = _net(await conn.execute_fetchall(_ALL_SPENT, (now - DAY,)))
            self._summed_at = now
        return self._bound

    def charged(self, cost: int) -> None:
        assert self._bound is not None
        self._bound += cost


async def check(conn: aiosqlite.Connection, limits: OperatorLimits, ceiling_state: Ceiling, *, platform: str,
                user_id: str, cost: int, now: float) -> None:
    """Raise PersonalCapReached / SpendCeilingReached when this job's cost would pass an operator cap."""
    cap = limits.person_daily_units
    if cap is not None and not limits.is_operator(platform, user_id):
        spent = await person_spent(conn, platform=platform, user_id=user_id, now=now)
        if spent + cost > cap:
            metrics.LIMIT_REFUSALS.labels(limit="person_cap").inc()
            frees_at = None if cost > cap else await person_frees_at(
                conn, platform=platform, user_id=user_id, need=spent + cost - cap, now=now)
            raise PersonalCapReached(person_cap_message(cap, spent, cost, frees_at, now), cap=cap,
                                     resets_at=frees_at)
    ceiling = limits.daily_spend_ceiling
    if ceiling is not None:
        spent = await ceiling_state.spent(conn, cost=cost, ceiling=ceiling, now=now)
        if spent + cost > ceiling:
            rows = list(await conn.execute_fetchall(_OLDEST, (now - DAY,)))
            oldest = rows[0][0] if rows else None
            ceiling_state.alarm.refused(spent=spent, now=now)
            frees_at = None if oldest is None else float(oldest) + DAY
            raise SpendCeilingReached(ceiling_message(frees_at, now), resets_at=frees_at)
        ceiling_state.charged(cost)


def _when(at: float, now: float) -> str:
    return f"{datetime.fromtimestamp(at, UTC).strftime('%H:%M')} UTC (in {duration(at - now)})"


def person_cap_message(cap: int, spent: int, cost: int, frees_at: float | None, now: float) -> str:
    left = max(0, cap - spent)
    text = (f"Personal limit reached: this bot lets each person use {cap} units per 24 h across all "
            f"communities and private chats together (the operator's cap); you have {left} left, this needs {cost}.")
    if cost > cap:
        return text + " This job is bigger than the whole cap: ask for fewer images."
    if frees_at is not None:
        text += f" Enough units free up at {_when(frees_at, now)}."
    return text


def ceiling_message(frees_at: float | None, now: float) -> str:
    text = "The bot has reached its daily spending limit set by its operator, so no new images can start now."
    if frees_at is not None:
        text += f" Try again after {_when(frees_at, now)}."
    return text
