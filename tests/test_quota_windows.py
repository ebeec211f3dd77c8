"""Windows that cannot be gamed (issue 13, core.store.windows): no sequence of timezone or window changes
grants units already used. A property test over random sequences, and the attack itself on a real store."""

from __future__ import annotations

import dataclasses
import math
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from core.errors import QuotaExhausted
from core.store import windows
from core.store.quota import Policy
from core.store.sqlite import SqliteStore
from tests.fakes.clock import FakeClock
from tests.test_quota import make_job

ALLOWANCE = 10
HOUR = 3600.0
# Extremes of the offset range, half and three-quarter hours, and zones with DST on both hemispheres.
ZONES = ("UTC", "Pacific/Kiritimati", "Etc/GMT+12", "Asia/Kolkata", "Asia/Kathmandu", "America/St_Johns",
         "Australia/Adelaide", "Europe/Paris")
# Starts a few days before DST changes in the zones above, and two ordinary days.
STARTS = tuple(datetime(*d, 13, 17, tzinfo=UTC).timestamp() for d in
               ((2026, 3, 26), (2026, 4, 2), (2026, 10, 22), (2026, 9, 30), (2026, 6, 10), (2026, 1, 15)))

advance = st.tuples(st.just("advance"), st.floats(min_value=60, max_value=30 * HOUR))
zone = st.tuples(st.just("timezone"), st.sampled_from(ZONES))
window = st.tuples(st.just("window"), st.sampled_from(("calendar", "rolling")))
spend = st.tuples(st.just("spend"), st.integers(min_value=1, max_value=ALLOWANCE))
steps = st.lists(st.one_of(advance, zone, window, spend), min_size=1, max_size=40)


def counted(charges: list[tuple[float, int]], start: float) -> int:
    return sum(units for at, units in charges if at >= start)


def old_end(old: Policy, now: float) -> float:
    """Until when the rules in force before a change at `now` would still count what they count now."""
    end = windows.next_midnight(old, now) if old.window == "calendar" else now + windows.DAY
    return max(end, old.floor_until) if windows.floor_active(old, now) else end


def zone_hop_attack(cycles: int) -> list[tuple[str, object]]:
    """Spend just after the old window's end and again just after the new zone's midnight, then hop back: with a
    floor that lapses at the old window's end instead of the new zone's next midnight, that is four allowances
    every three days. Starts at 01:00 UTC on a UTC calendar; St John's midnight is 03:30 UTC in January."""
    hop = [("spend", ALLOWANCE), ("timezone", "America/St_Johns"), ("advance", 23.5 * HOUR),  # 00:30 next day
           ("spend", ALLOWANCE), ("advance", 3.5 * HOUR), ("spend", ALLOWANCE),  # 04:00, after St John's midnight
           ("timezone", "UTC"), ("advance", 23.5 * HOUR + 60), ("spend", ALLOWANCE),  # 03:31, old window over
           ("advance", 21.5 * HOUR - 60)]  # 01:00, three days after the cycle began
    return [step for _ in range(cycles) for step in hop]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@example(start=datetime(2026, 1, 15, 1, 0, tzinfo=UTC).timestamp(), first="UTC", sequence=zone_hop_attack(5))
@given(start=st.sampled_from(STARTS), first=st.sampled_from(ZONES), sequence=steps)
def test_no_sequence_of_window_or_timezone_changes_grants_used_units(start: float, first: str,
                                                                     sequence: list[tuple[str, object]]) -> None:
    now = start
    policy = Policy(scope_id="g", daily_units=ALLOWANCE, timezone=first)
    charges: list[tuple[float, int]] = []
    before: list[tuple[Policy, float]] = []  # the rules in force before each change, and until when they held

    def available(p: Policy) -> int:
        return max(0, ALLOWANCE - counted(charges, windows.window_start(p, now)))

    for kind, value in sequence:
        if kind == "advance":
            now += float(value)  # type: ignore[arg-type]
        elif kind == "spend":
            take = min(int(value), available(policy))  # type: ignore[call-overload]
            if take:
                charges.append((now, take))
        else:
            changed = windows.rebase(policy, dataclasses.replace(policy, **{kind: value}), now)
            assert available(changed) <= available(policy), "a change raised `available` at its instant"
            before.append((policy, old_end(policy, now)))
            policy = changed
        for old, end in before:
            if now < end:
                # I1: whatever the rules before a change still count, the current rules count too.
                assert windows.window_start(policy, now) <= windows.window_start(old, now)
    # I2: no short windows, so the whole span holds at most one allowance per (DST-short) day, plus one.
    span = now - start
    assert sum(units for _, units in charges) <= ALLOWANCE * (math.ceil(span / (23 * HOUR)) + 1)


def test_a_zone_hop_keeps_the_old_windows_start_until_the_new_zones_first_midnight_after_it() -> None:
    at = datetime(2026, 6, 10, 23, 30, tzinfo=UTC).timestamp()  # 05:00 on the 11th in Kolkata
    plain = Policy(scope_id="g", timezone="UTC")
    hopped = dataclasses.replace(plain, timezone="Asia/Kolkata")
    utc_midnight = datetime(2026, 6, 10, tzinfo=UTC).timestamp()
    # Left alone, Kolkata's day (from 18:30 UTC) would forget everything spent since UTC midnight.
    assert windows.window_start(hopped, at) == datetime(2026, 6, 10, 18, 30, tzinfo=UTC).timestamp()
    kept = windows.rebase(plain, hopped, at)
    assert windows.window_start(kept, at) == utc_midnight
    assert kept.floor_until == datetime(2026, 6, 11, 18, 30, tzinfo=UTC).timestamp()  # Kolkata's next midnight
    assert windows.window_start(kept, kept.floor_until - 1) == utc_midnight
    assert windows.window_start(kept, kept.floor_until) == kept.floor_until  # then Kolkata's days, whole


async def test_switching_to_a_zone_whose_midnight_just_passed_refills_nothing(tmp_path: Path) -> None:
    clock = FakeClock(start=datetime(2026, 11, 25, 20, 48, tzinfo=UTC).timestamp())  # 20:48 UTC
    async with await SqliteStore.open(tmp_path / "c.sqlite3", clock=clock, default_daily_units=10) as store:
        await store.create_job(make_job("e1", cost=10))
        for hop in ("Asia/Tokyo", "Pacific/Kiritimati", "Etc/GMT+12", "Asia/Kolkata"):
            await store.set_policy("g1", timezone=hop)  # each one's midnight is at another hour
            with pytest.raises(QuotaExhausted):
                await store.create_job(make_job(f"after-{hop}"))
        await store.set_policy("g1", window="rolling")
        with pytest.raises(QuotaExhausted):
            await store.create_job(make_job("rolling"))
        stored = await store.policy("g1")
        view = await store.quota(platform="discord", user_id="u1", scope_id="g1")
        assert view.balance == 0 and view.resets_at is not None and view.resets_at >= stored.floor_until  # type: ignore[operator]
        await clock.advance(view.resets_at - clock.now())  # the old window is over: the units come back
        assert (await store.quota(platform="discord", user_id="u1", scope_id="g1")).balance == 10
