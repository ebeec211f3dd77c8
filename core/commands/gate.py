"""The operator's door, checked once at the top of CommandRouter.handle for every command (core.limits).

- An operator id ("platform:user_id" in CASTBOT_OPERATORS) acts as an admin in every community: the actor
  is replaced here, in core, so no adapter decides who is an operator.
- With an allow-list set, a place not on it gets ONE polite refusal (NotAllowed, worded here) and after
  that silence (`Ignored`): a busy unlisted group is not answered a thousand times. The places already
  told are remembered in a bounded LRU, so a flood of new places cannot grow memory; one that falls out is
  told again, once. A place that keeps using the bot after its refusal is left (Telegram leaveChat,
  Discord leave guild) when the operator's `leave_unlisted` says so: no more updates arrive from it.
"""

from __future__ import annotations

import dataclasses
from collections import OrderedDict

from core import metrics
from core.commands.answers import Ignored
from core.errors import NotAllowed
from core.limits import OperatorLimits
from core.types import Actor, Place

MAX_TOLD_PLACES = 10_000  # unlisted places remembered as already refused (~1 MB at most)

PLACE_REFUSAL = ("This bot is private: its operator has not enabled it in this {where}. "
                 "Ask the operator to add it, or use a community where the bot is enabled.")
DM_REFUSAL = "This bot does not take private messages here; use it in a community where it is enabled."


class PlaceGate:
    def __init__(self, limits: OperatorLimits, *, memory: int = MAX_TOLD_PLACES) -> None:
        self.limits = limits
        self._told: OrderedDict[tuple[str, str], None] = OrderedDict()
        self._memory = memory

    def admit(self, actor: Actor, place: Place) -> Actor | Ignored:
        """The actor to run the command as (an operator becomes an admin), or Ignored; raises the one refusal."""
        limits = self.limits
        if limits.is_operator(actor.platform, actor.user_id) and not actor.is_admin:
            actor = dataclasses.replace(actor, is_admin=True)
        if limits.place_allowed(place.platform, place.scope_id, actor.user_id):
            return actor
        metrics.LIMIT_REFUSALS.labels(limit="place").inc()
        key = (place.platform, place.scope_id)
        if key in self._told:
            self._told.move_to_end(key)
            # Told once already and still used: leave, if the operator wants it (never a private chat).
            return Ignored("place", leave=limits.leave_unlisted and not place.scope_id.startswith("dm:"))
        self._told[key] = None
        while len(self._told) > self._memory:
            self._told.popitem(last=False)
        dm = place.scope_id.startswith("dm:")
        where = "server" if place.platform == "discord" else "group"
        raise NotAllowed(DM_REFUSAL if dm else PLACE_REFUSAL.format(where=where), action="use", role="unlisted place")
