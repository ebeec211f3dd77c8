"""The operator's limits above community policy (issue 13), on a real SQLite store and the fake clock."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from core import metrics
from core.errors import InvalidParameter, PersonalCapReached, QuotaExhausted, SpendCeilingReached
from core.limits import OperatorLimits, parse_ids, places
from core.store.sqlite import NewJob, SqliteStore
from core.types import JobState
from tests.fakes.clock import FakeClock
from tests.test_quota import EVENING

SCOPES = ("dm:u1", "-1001", "-1002", "-1003", "-1004", "-1005")  # a DM and five groups


def job(idem: str, *, scope: str, user: str = "u1", cost: int = 1, is_admin: bool = False,
        platform: str = "telegram") -> NewJob:
    return NewJob(idem_key=idem, platform=platform, user_id=user, user_name=user, scope_id=scope, chat_id=scope,
                  model="poses", prompt="p", payload={}, inputs={}, cost=cost, reply_ref="r", is_admin=is_admin)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(start=EVENING)


async def open_store(tmp_path: Path, clock: FakeClock, limits: OperatorLimits) -> SqliteStore:
    return await SqliteStore.open(tmp_path / "castbot.sqlite3", clock=clock, default_daily_units=40, limits=limits)


@pytest.fixture
async def capped(tmp_path: Path, clock: FakeClock) -> AsyncIterator[SqliteStore]:
    async with await open_store(tmp_path, clock, OperatorLimits(person_daily_units=40,
                                                                operators=frozenset({"telegram:boss"}))) as s:
        yield s


async def test_a_person_in_a_dm_and_five_groups_never_exceeds_the_personal_cap(capped: SqliteStore,
                                                                              clock: FakeClock) -> None:
    # Each community allows 40 a day: six communities were 240 a day for one person before the cap.
    results = await asyncio.gather(*(capped.create_job(job(f"{scope}:{i}", scope=scope, cost=4))
                                     for i in range(10) for scope in SCOPES), return_exceptions=True)
    accepted = [r for r in results if isinstance(r, tuple)]
    refused = [r for r in results if isinstance(r, PersonalCapReached)]
    assert (len(accepted), len(refused)) == (10, 50)
    assert all(isinstance(r, tuple | PersonalCapReached) for r in results)
    assert str(refused[0]) == (
        "Personal limit reached: this bot lets each person use 40 units per 24 h across all communities and "
        "private chats together (the operator's cap); you have 0 left, this needs 4. "
        "Enough units free up at 20:48 UTC (in 24 h 0 min).")
    assert refused[0].resets_at == EVENING + 86_400
    # Another person, and the operator, are not touched by u1's cap.
    await capped.create_job(job("other", scope="-1001", user="u2", cost=40))
    await capped.create_job(job("boss", scope="-1001", user="boss", cost=40))
    # A released job gives its units back to the cap; a day later everything has aged out.
    first, _ = accepted[0]
    await capped.finish_job(first.job_id, JobState.FAILED)
    await capped.create_job(job("again", scope="-1003", cost=4))
    await clock.advance(86_400)
    await capped.create_job(job("tomorrow", scope="dm:u1", cost=40))
    assert await capped.audit() == []


async def test_quota_shows_the_personal_cap_when_it_binds(capped: SqliteStore) -> None:
    await capped.create_job(job("a", scope="-1001", cost=30))
    view = await capped.quota(platform="telegram", user_id="u1", scope_id="-1002")
    assert (view.balance, view.personal_cap, view.capped_by_operator) == (10, 40, True)
    elsewhere = await capped.quota(platform="telegram", user_id="u1", scope_id="-1001")
    assert (elsewhere.balance, elsewhere.capped_by_operator) == (10, False)  # the community allowance binds too
    assert (await capped.quota(platform="telegram", user_id="boss", scope_id="-1002")).personal_cap is None
    # A community's unlimited admins are still one person to the operator's cap.
    await capped.set_policy("-1003", unlimited_admins=True)
    admin = await capped.quota(platform="telegram", user_id="u1", scope_id="-1003", is_admin=True)
    assert (admin.balance, admin.capped_by_operator) == (10, True)
    with pytest.raises(PersonalCapReached):
        await capped.create_job(job("admin", scope="-1003", cost=11, is_admin=True))


async def test_the_community_refusal_comes_first_when_both_bind(capped: SqliteStore) -> None:
    await capped.set_policy("-1001", daily_units=5)
    with pytest.raises(QuotaExhausted) as info:
        await capped.create_job(job("big", scope="-1001", cost=50))
    assert not isinstance(info.value, PersonalCapReached)
    await capped.set_policy("-1002", daily_units=100)
    with pytest.raises(PersonalCapReached, match="bigger than the whole cap"):
        await capped.create_job(job("huge", scope="-1002", cost=41))


async def test_the_spend_ceiling_refuses_the_job_after_it_and_alerts_once(tmp_path: Path, clock: FakeClock,
                                                                           caplog: pytest.LogCaptureFixture) -> None:
    alerts: list[str] = []
    limits = OperatorLimits(daily_spend_ceiling=100, operators=frozenset({"discord:boss"}), on_alert=alerts.append)
    before = metrics.CEILING_ALERTS._value.get()
    async with await open_store(tmp_path, clock, limits) as store:
        for i in range(10):  # ten people in ten communities spend the whole ceiling between them
            await store.create_job(job(f"j{i}", scope=f"g{i}", user=f"u{i}", cost=10, platform="discord"))
        with caplog.at_level(logging.WARNING, logger="core.limits"):
            for i in range(30):  # the next job, and every one after, is refused; even the operator's
                with pytest.raises(SpendCeilingReached) as info:
                    await store.create_job(job(f"k{i}", scope="g0", user="boss" if i % 2 else f"v{i}", cost=1,
                                               platform="discord"))
        assert str(info.value) == ("The bot has reached its daily spending limit set by its operator, so no new "
                                   "images can start now. Try again after 20:48 UTC (in 24 h 0 min).")
        assert len(alerts) == 1 and "daily spend ceiling (100 units) is reached" in alerts[0]
        assert [r.levelname for r in caplog.records if "ceiling" in r.getMessage()] == ["WARNING"]
        assert metrics.CEILING_ALERTS._value.get() == before + 1
        await clock.advance(86_400)  # a day later the spend has aged out and the next refusal alerts again
        for i in range(10):
            await store.create_job(job(f"next-day{i}", scope="g1", user=f"u{i}", cost=10, platform="discord"))
        with pytest.raises(SpendCeilingReached):
            await store.create_job(job("over", scope="g1", user="u2", cost=1, platform="discord"))
        assert len(alerts) == 2


async def test_a_community_admin_cannot_set_an_allowance_above_the_operators_maximum(tmp_path: Path,
                                                                                     clock: FakeClock) -> None:
    path = tmp_path / "castbot.sqlite3"
    async with await SqliteStore.open(path, clock=clock, default_daily_units=40) as store:
        await store.set_policy("g1", daily_units=100_000, pool_units=50_000)  # stored before any maximum
    limits = OperatorLimits(max_community_daily_units=60, max_community_pool_units=200)
    async with await SqliteStore.open(path, clock=clock, default_daily_units=80, limits=limits) as store:
        with pytest.raises(InvalidParameter) as info:
            await store.set_policy("g2", daily_units=100_000)
        assert str(info.value) == ("daily_units can be at most 60 on this bot: that is the operator's maximum "
                                   "community allowance (asked for 100000).")
        with pytest.raises(InvalidParameter, match="pool_units can be at most 200"):
            await store.set_policy("g2", pool_units=201)
        assert (await store.policy("g2")).daily_units == 60  # the operator's own default is clamped too
        clamped = await store.policy("g1")  # stored before the maximum: read as the maximum
        assert (clamped.daily_units, clamped.pool_units) == (60, 200)
        updated = await store.set_policy("g2", daily_units=60, pool_units=200)
        assert (updated.daily_units, updated.pool_units) == (60, 200)


def test_operator_ids_and_places_parse_strictly() -> None:
    assert parse_ids(" telegram:123, discord:456 ,", what="x") == frozenset({"telegram:123", "discord:456"})
    assert places(None) is None and places("  ") is None
    with pytest.raises(InvalidParameter, match="'slack:1' is not platform:id"):
        parse_ids("telegram:1,slack:1", what="CASTBOT_OPERATORS")
    limits = OperatorLimits(allowed_places=places("telegram:-100"), allow_dms=False,
                            operators=frozenset({"telegram:9"}))
    assert limits.place_allowed("telegram", "-100", "1") and not limits.place_allowed("telegram", "-200", "1")
    assert not limits.place_allowed("discord", "-100", "1")
    assert not limits.place_allowed("telegram", "dm:1", "1") and limits.place_allowed("telegram", "dm:9", "9")
    assert OperatorLimits().place_allowed("discord", "123", "1")  # no allow-list: every place


async def test_the_ceiling_holds_under_concurrent_jobs_and_sees_released_units(tmp_path: Path,
                                                                               clock: FakeClock) -> None:
    async with await open_store(tmp_path, clock, OperatorLimits(daily_spend_ceiling=25)) as store:
        results = await asyncio.gather(*(store.create_job(job(f"j{i}", scope=f"g{i % 7}", user=f"u{i}", cost=1))
                                         for i in range(60)), return_exceptions=True)
        accepted = [r for r in results if isinstance(r, tuple)]
        assert len(accepted) == 25 and all(isinstance(r, tuple | SpendCeilingReached) for r in results)
        for record, _ in accepted[:5]:  # five jobs fail: their units come back to the instance
            await store.finish_job(record.job_id, JobState.FAILED)
        await clock.advance(1.0)  # refusals re-read the exact spend at most once a second
        for i in range(5):
            await store.create_job(job(f"after{i}", scope="g1", user=f"w{i}"))
        with pytest.raises(SpendCeilingReached):
            await store.create_job(job("one-more", scope="g1", user="w9"))
        assert (await store.ledger_totals())["hold"] - (await store.ledger_totals())["release"] == 25
