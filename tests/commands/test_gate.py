"""core.commands.gate: the operator's door at the top of CommandRouter.handle — operators are admins,
unlisted places are refused once, then ignored (and left), with bounded memory."""

from __future__ import annotations

import pytest

from core.commands.answers import Ignored
from core.commands.gate import PlaceGate
from core.errors import NotAllowed
from core.limits import OperatorLimits
from core.types import Actor, Place

LIMITS = OperatorLimits(allowed_places=frozenset({"telegram:-1"}), operators=frozenset({"telegram:9"}))
MEMBER, OPERATOR = Actor("telegram", "5", "m"), Actor("telegram", "9", "op")


def test_an_operator_is_an_admin_everywhere_and_a_member_is_not_promoted() -> None:
    gate = PlaceGate(LIMITS)
    assert gate.admit(OPERATOR, Place("telegram", "-1", "-1")) == Actor("telegram", "9", "op", is_admin=True)
    assert gate.admit(MEMBER, Place("telegram", "-1", "-1")) == MEMBER
    assert PlaceGate(OperatorLimits()).admit(Actor("discord", "9"), Place("discord", "g", "c")).is_admin is False


def test_an_unlisted_place_is_refused_once_then_ignored_and_left() -> None:
    gate = PlaceGate(LIMITS)
    group = Place("telegram", "-2", "-2")
    with pytest.raises(NotAllowed, match="not enabled it in this group"):
        gate.admit(MEMBER, group)
    assert gate.admit(MEMBER, group) == Ignored("place", leave=True)
    assert gate.admit(OPERATOR, group) == Ignored("place", leave=True)  # an operator must list it too
    staying = PlaceGate(OperatorLimits(allowed_places=frozenset(), leave_unlisted=False))
    with pytest.raises(NotAllowed):
        staying.admit(MEMBER, group)
    assert staying.admit(MEMBER, group) == Ignored("place", leave=False)


def test_private_chats_follow_allow_dms_and_an_operators_own_dm_is_always_open() -> None:
    closed = PlaceGate(OperatorLimits(allowed_places=frozenset(), allow_dms=False, operators=frozenset({"telegram:9"})))
    with pytest.raises(NotAllowed, match="does not take private messages"):
        closed.admit(MEMBER, Place("telegram", "dm:5", "5"))
    assert closed.admit(MEMBER, Place("telegram", "dm:5", "5")) == Ignored("place", leave=False)  # never "leave" a DM
    assert closed.admit(OPERATOR, Place("telegram", "dm:9", "9")).is_admin
    assert PlaceGate(OperatorLimits(allowed_places=frozenset())).admit(MEMBER, Place("telegram", "dm:5", "5")) == MEMBER


def test_the_memory_of_refused_places_is_bounded() -> None:
    gate = PlaceGate(OperatorLimits(allowed_places=frozenset()), memory=3)
    for n in range(10):
        with pytest.raises(NotAllowed):
            gate.admit(MEMBER, Place("discord", f"g{n}", "c"))
    assert len(gate._told) == 3
    assert gate.admit(MEMBER, Place("discord", "g9", "c")) == Ignored("place", leave=True)
    with pytest.raises(NotAllowed):  # forgotten: told again, once
        gate.admit(MEMBER, Place("discord", "g0", "c"))
