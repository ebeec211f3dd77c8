"""Quota ledger on a real SQLite file: concurrent holds, windows, grants, pool, admins, reconciliation."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from core.errors import InvalidParameter, QuotaExhausted
from core.store.sqlite import NewJob, SqliteStore
from core.types import JobState
from tests.fakes.clock import FakeClock

# 20:48 UTC: the next calendar reset is 3 h 12 min away.
EVENING = datetime(2026, 11, 25, 20, 48, tzinfo=UTC).timestamp()
MIDNIGHT = datetime(2026, 11, 26, 0, 0, tzinfo=UTC).timestamp()


def make_job(idem: str, *, user: str = "u1", scope: str = "g1", cost: int = 1, is_admin: bool = False) -> NewJob:
    return NewJob(
        idem_key=idem, platform="discord", user_id=user, user_name=user, scope_id=scope, chat_id="c",
        model="poses", prompt="p", payload={}, inputs={}, cost=cost, reply_ref="r", is_admin=is_admin,
    )


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(start=EVENING)


@pytest.fixture
async def store(tmp_path: Path, clock: FakeClock) -> AsyncIterator[SqliteStore]:
    async with await SqliteStore.open(tmp_path / "castbot.sqlite3", clock=clock, default_daily_units=10) as s:
        yield s


async def balance(store: SqliteStore, user: str = "u1", *, is_admin: bool = False) -> int | None:
    view = await store.quota(platform="discord", user_id=user, scope_id="g1", is_admin=is_admin)
    return view.balance


async def test_fifty_concurrent_holds_against_ten_units(store: SqliteStore) -> None:
    results = await asyncio.gather(*(store.create_job(make_job(f"e{i}")) for i in range(50)),
                                   return_exceptions=True)
    accepted = [r for r in results if isinstance(r, tuple)]
    refused = [r for r in results if isinstance(r, QuotaExhausted)]
    assert (len(accepted), len(refused)) == (10, 40)
    assert all(r.resets_at == MIDNIGHT for r in refused)
    assert str(refused[0]) == (
        "Quota exhausted: you have 0 units left today, this needs 1. Resets at 00:00 UTC (in 3 h 12 min)."
    )
    assert (await store.ledger_totals())["hold"] == 10
    assert await balance(store) == 0


async def test_exhausted_message_names_what_is_left(store: SqliteStore) -> None:
    await store.create_job(make_job("e1", cost=8))
    with pytest.raises(QuotaExhausted) as info:
        await store.create_job(make_job("e2", cost=4))
    assert str(info.value) == (
        "Quota exhausted: you have 2 units left today, this needs 4. Resets at 00:00 UTC (in 3 h 12 min)."
    )
    assert await store.job_counts() == {"accepted": 1}  # the refused job left nothing behind


async def test_more_than_a_day_suggests_a_grant(store: SqliteStore) -> None:
    with pytest.raises(QuotaExhausted, match="more than a full day's allowance: ask an admin"):
        await store.create_job(make_job("e1", cost=11))


async def test_release_gives_units_back_capture_does_not(store: SqliteStore) -> None:
    ok, _ = await store.create_job(make_job("e1", cost=3))
    bad, _ = await store.create_job(make_job("e2", cost=4))
    view = await store.quota(platform="discord", user_id="u1", scope_id="g1")
    assert (view.balance, view.held, view.used_today) == (3, 7, 0)
    await store.finish_job(ok.job_id, JobState.DELIVERED)
    await store.finish_job(bad.job_id, JobState.FAILED, error="boom")
    view = await store.quota(platform="discord", user_id="u1", scope_id="g1")
    assert (view.balance, view.held, view.used_today) == (7, 0, 3)


async def test_calendar_day_refills_at_midnight(store: SqliteStore, clock: FakeClock) -> None:
    await store.create_job(make_job("e1", cost=10))
    assert await balance(store) == 0
    await clock.advance(MIDNIGHT - EVENING - 1)
    assert await balance(store) == 0
    await clock.advance(1)
    assert await balance(store) == 10


async def test_calendar_day_in_community_timezone(store: SqliteStore, clock: FakeClock) -> None:
    await store.set_policy("g1", timezone="Asia/Tokyo")  # 20:48 UTC is 05:48 next day in Tokyo
    await store.create_job(make_job("e1", cost=10))
    view = await store.quota(platform="discord", user_id="u1", scope_id="g1")
    tokyo_midnight = datetime(2026, 11, 26, 15, 0, tzinfo=UTC).timestamp()
    assert view.resets_at == tokyo_midnight
    with pytest.raises(QuotaExhausted, match=r"Resets at 00:00 Asia/Tokyo \(in 18 h 12 min\)"):
        await store.create_job(make_job("e2"))


async def test_rolling_window_frees_units_a_day_after_use(store: SqliteStore, clock: FakeClock) -> None:
    await store.set_policy("g1", window="rolling")
    await store.create_job(make_job("e1", cost=6))
    await clock.advance(3600)
    await store.create_job(make_job("e2", cost=4))
    with pytest.raises(QuotaExhausted, match="left in the last 24 h") as info:
        await store.create_job(make_job("e3", cost=5))
    assert info.value.resets_at == EVENING + 86_400
    await clock.advance(86_400 - 3600)  # the first charge ages out
    assert await balance(store) == 6
    await clock.advance(3600)
    assert await balance(store) == 10


async def test_late_release_returns_units_to_the_day_charged(store: SqliteStore, clock: FakeClock) -> None:
    job, _ = await store.create_job(make_job("e1", cost=10))
    await clock.advance(MIDNIGHT - EVENING + 60)  # the job is still running the next day
    assert await balance(store) == 10
    await store.finish_job(job.job_id, JobState.EXPIRED)
    assert await balance(store) == 10  # not 20: yesterday's units stay yesterday's


async def test_grants_are_spent_after_the_daily_allowance_and_do_not_expire(
    store: SqliteStore, clock: FakeClock,
) -> None:
    await store.grant(scope_id="g1", platform="discord", user_id="u1", units=5, reason="contest winner")
    assert await balance(store) == 15
    await store.create_job(make_job("e1", cost=12))  # 10 daily + 2 granted
    assert await balance(store) == 3
    await clock.advance(MIDNIGHT - EVENING)
    assert await balance(store) == 13
    with pytest.raises(InvalidParameter):
        await store.grant(scope_id="g1", platform="discord", user_id="u1", units=0)


async def test_pool_is_shared_once_own_allowance_is_used(store: SqliteStore) -> None:
    await store.set_policy("g1", pool_units=5)
    await store.create_job(make_job("a1", user="a", cost=12))  # 10 own + 2 pool
    view = await store.quota(platform="discord", user_id="b", scope_id="g1")
    assert (view.balance, view.pool_balance) == (13, 3)
    await store.create_job(make_job("b1", user="b", cost=13))  # 10 own + 3 pool
    with pytest.raises(QuotaExhausted):
        await store.create_job(make_job("a2", user="a"))
    await store.grant(scope_id="g1", platform="discord", user_id=None, units=4)  # top up the pool
    await store.create_job(make_job("a3", user="a", cost=4))
    assert (await store.quota(platform="discord", user_id="b", scope_id="g1")).pool_balance == 0


async def test_failed_job_gives_back_to_each_source(store: SqliteStore) -> None:
    await store.set_policy("g1", pool_units=5)
    job, _ = await store.create_job(make_job("a1", cost=13))
    await store.finish_job(job.job_id, JobState.CANCELLED)
    view = await store.quota(platform="discord", user_id="u1", scope_id="g1")
    assert (view.balance, view.pool_balance) == (15, 5)


async def test_admins_are_limited_unless_policy_says_otherwise(store: SqliteStore) -> None:
    with pytest.raises(QuotaExhausted):
        await store.create_job(make_job("e1", cost=11, is_admin=True))
    await store.set_policy("g1", unlimited_admins=True)
    await store.create_job(make_job("e2", cost=11, is_admin=True))
    assert await balance(store, is_admin=True) is None
    assert await balance(store) == 10  # the unlimited hold drew nothing from the allowance
    with pytest.raises(QuotaExhausted):
        await store.create_job(make_job("e3", cost=11))  # the same user without admin rights


async def test_policy_defaults_and_changes(store: SqliteStore) -> None:
    policy = await store.policy("g1")
    assert (policy.daily_units, policy.window, policy.timezone, policy.pool_units) == (10, "calendar", "UTC", None)
    assert (policy.unlimited_admins, policy.character_limit) == (False, 50)
    changed = await store.set_policy("g1", daily_units=3, model_weights={"sheet": 4}, character_limit=5)
    assert changed == await store.policy("g1")
    assert (changed.daily_units, changed.weight_for("sheet", 2), changed.weight_for("poses", 1)) == (3, 4, 1)
    assert await balance(store) == 3


async def test_community_follows_operator_default_until_it_sets_its_own(tmp_path: Path, clock: FakeClock) -> None:
    path = tmp_path / "db.sqlite3"
    async with await SqliteStore.open(path, clock=clock, default_daily_units=10) as store:
        await store.set_policy("g1", timezone="Europe/Paris")
        await store.set_policy("g2", daily_units=7)
    async with await SqliteStore.open(path, clock=clock, default_daily_units=25) as store:
        assert (await store.policy("g1")).daily_units == 25
        assert (await store.policy("g2")).daily_units == 7


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"window": "weekly"}, "window must be"),
        ({"timezone": "Mars/Olympus"}, "Unknown timezone"),
        ({"daily_units": -1}, "daily_units must be a whole number"),
        ({"pool_units": 2.5}, "pool_units must be"),
        ({"character_limit": 0}, "character_limit must be"),
        ({"unlimited_admins": "yes"}, "unlimited_admins must be yes or no"),
        ({"model_weights": {"sheet": -2}}, "weight of sheet"),
        ({"colour": "red"}, "Unknown setting 'colour'"),
    ],
)
async def test_bad_policy_values_are_refused(store: SqliteStore, changes: dict, message: str) -> None:
    with pytest.raises(InvalidParameter, match=message):
        await store.set_policy("g1", **changes)
    assert (await store.policy("g1")).daily_units == 10


async def test_ledger_reconciles_under_random_concurrent_traffic(store: SqliteStore, clock: FakeClock) -> None:
    rng = random.Random(7)
    await store.set_policy("g1", pool_units=20)
    for user in ("a", "b", "c"):
        await store.grant(scope_id="g1", platform="discord", user_id=user, units=rng.randint(1, 9))

    async def one_user(user: str) -> None:
        for i in range(25):
            try:
                job, _ = await store.create_job(make_job(f"{user}{i}", user=user, cost=rng.randint(0, 4)))
            except QuotaExhausted:
                continue
            final = rng.choice([JobState.DELIVERED, JobState.FAILED, JobState.CANCELLED, JobState.EXPIRED, None])
            if final is not None:
                await store.finish_job(job.job_id, final)

    await asyncio.gather(*(one_user(u) for u in ("a", "b", "c")))
    totals = await store.ledger_totals()
    held = sum(j.cost for j in await store.unfinished_jobs())
    assert totals["hold"] == totals["capture"] + totals["release"] + held
    assert await store.audit() == []
    for user in ("a", "b", "c"):
        assert (await store.quota(platform="discord", user_id=user, scope_id="g1")).balance >= 0


async def test_community_stats(store: SqliteStore) -> None:
    delivered, _ = await store.create_job(make_job("a1", user="a", cost=3))
    failed, _ = await store.create_job(make_job("b1", user="b", cost=2))
    await store.create_job(make_job("b2", user="b", cost=1))
    await store.create_job(make_job("x1", scope="g2", cost=5))
    await store.finish_job(delivered.job_id, JobState.DELIVERED)
    await store.finish_job(failed.job_id, JobState.FAILED)
    stats = await store.stats("g1")
    assert stats.jobs_by_state == {"delivered": 1, "failed": 1, "accepted": 1}
    assert (stats.units_spent, stats.users, stats.characters) == (3, 2, 0)
