"""Quota windows that a policy change cannot game (issue 13).

A community's daily allowance counts the charges made at or after `window_start(policy, now)`. Left to
itself that start follows the policy: the last local midnight in the community's timezone ("calendar"),
or 24 h ago ("rolling"). An admin who could switch `--timezone` to a zone whose midnight just passed
would move the start past everything spent today and refill everyone's allowance every hour. So a change
of window or timezone leaves a floor behind (`Policy.floor_at` until `Policy.floor_until`, persisted in
scope_settings):

    window_start(P, t) = min(natural_start(P, t), P.floor_at)   while t < P.floor_until
                         natural_start(P, t)                     after

where, at a change at instant n from rules O (old policy with its own floor, if any) to policy N:

    floor_at    = window_start(O, n)                 the old rules' effective start at the change
    floor_until = first boundary of N at or after max(end(O, n), O.floor_until if still active)
    end(O, n)   = O's next local midnight (calendar) or n + 24 h (rolling: its last charge ages out then)

Invariants (tests/test_quota_windows.py checks them over random change sequences with hypothesis):

I1. A change never frees a charge sooner. For every t >= n before the old rules' window end, the new
    window_start(N, t) <= window_start(O, t): every charge the old rules would still count at t is
    counted at t. In particular `available` never rises at the instant of a change.
I2. The old window is not shortened and the new policy's first window starts on one of its own
    boundaries at or after the old window's end, so no short window is ever inserted: every calendar
    window lasts at least a local day (23 h across a DST change) and a rolling window holds at most one
    allowance in any 24 h. Over any span of S hours, daily-source spend is at most
    allowance x (ceil(S / 23) + 1), however often the policy changes.

The price of I1/I2 is paid by the community that changes: charges may count longer than either policy
alone would count them (up to the old window's end plus one day of the new policy), never shorter.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta
from typing import Protocol, TypeVar
from zoneinfo import ZoneInfo

DAY = 86_400.0


class Policy(Protocol):
    """What the window math reads of core.store.quota.Policy (a Protocol: quota imports this module)."""

    @property
    def window(self) -> str: ...
    @property
    def timezone(self) -> str: ...
    @property
    def floor_at(self) -> float | None: ...
    @property
    def floor_until(self) -> float | None: ...
    def zone(self) -> ZoneInfo: ...


P = TypeVar("P", bound=Policy)


def natural_start(policy: Policy, now: float) -> float:
    """The policy's own window start, ignoring any floor left by a change."""
    if policy.window == "rolling":
        return now - DAY + 0.001  # a charge made exactly 24 h ago has just aged out
    local = datetime.fromtimestamp(now, policy.zone())
    return local.replace(hour=0, minute=0, second=0, microsecond=0).timestamp()


def next_midnight(policy: Policy, now: float) -> float:
    zone = policy.zone()
    local = datetime.fromtimestamp(now, zone)
    tomorrow = local.date() + timedelta(days=1)
    return datetime(tomorrow.year, tomorrow.month, tomorrow.day, tzinfo=zone).timestamp()


def floor_active(policy: Policy, now: float) -> bool:
    return policy.floor_at is not None and policy.floor_until is not None and now < policy.floor_until


def window_start(policy: Policy, now: float) -> float:
    """Charges at or after this instant count against the current window (see the module docstring)."""
    start = natural_start(policy, now)
    if floor_active(policy, now):
        assert policy.floor_at is not None
        return min(start, policy.floor_at)
    return start


def _boundary_at_or_after(policy: Policy, at: float) -> float:
    if policy.window == "rolling" or natural_start(policy, at) == at:
        return at
    return next_midnight(policy, at)


def rebase(old: Policy, new: P, now: float) -> P:
    """`new` with the floor that keeps I1 and I2 when the window or timezone changed from `old` at `now`."""
    if (old.window, old.timezone) == (new.window, new.timezone):
        return dataclasses.replace(new, floor_at=old.floor_at, floor_until=old.floor_until)  # type: ignore[type-var]
    end = next_midnight(old, now) if old.window == "calendar" else now + DAY
    if floor_active(old, now):
        assert old.floor_until is not None
        end = max(end, old.floor_until)
    return dataclasses.replace(new, floor_at=window_start(old, now),  # type: ignore[type-var]
                               floor_until=_boundary_at_or_after(new, end))


def resets_at(policy: Policy, now: float) -> float | None:
    """When a calendar window refills (None for rolling: charges age out one by one)."""
    if floor_active(policy, now):
        return policy.floor_until
    return next_midnight(policy, now) if policy.window == "calendar" else None
