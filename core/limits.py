"""Operator limits: the layer above every community's policy (docs/operators.md, DESIGN "Policy layers").

The operator pays Segmind for every image, so these bound what any community or person can make the bot
spend, whatever a community's admins set:

- `person_daily_units`: what one person may spend in a rolling 24 h across every community and DM on one
  platform (the same Telegram user in a DM and five groups has ONE such budget). Enforced in the store
  transaction that writes a job's hold (core.store.caps).
- `daily_spend_ceiling`: units the whole instance may spend in a rolling 24 h; beyond it jobs are refused
  and the operator is alerted once (`CeilingAlarm`).
- `max_community_daily_units` / `max_community_pool_units`: what a community admin may set; a policy
  stored before the maximum was lowered is clamped when read (core.store.policy).
- `allowed_places`: when set, only these communities ("platform:scope_id") may use the bot
  (core.commands.gate); DMs follow `allow_dms`, and an operator's own DM is always allowed.
- `operators` ("platform:user_id"): admins in every community; exempt from the per-person cap (they pay),
  not from the spend ceiling (which protects them from their own mistakes too).

`None` means "no operator limit" for each number. The defaults limit nothing: a private bot behaves as
before; docs/operators.md gives the values for a public one.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from core import metrics
from core.errors import InvalidParameter

log = logging.getLogger(__name__)

DAY = 86_400.0
Alert = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class OperatorLimits:
    """What the operator allows, above every community's policy. Built once from settings in bot/."""

    person_daily_units: int | None = None
    daily_spend_ceiling: int | None = None
    max_community_daily_units: int | None = None
    max_community_pool_units: int | None = None
    allowed_places: frozenset[str] | None = None  # "platform:scope_id"; None = every place
    allow_dms: bool = True
    leave_unlisted: bool = True  # leave an unlisted group or server that keeps using the bot after its refusal
    operators: frozenset[str] = frozenset()  # "platform:user_id"
    on_alert: Alert | None = field(default=None, compare=False, repr=False)  # told once when the ceiling binds

    def is_operator(self, platform: str, user_id: str) -> bool:
        return f"{platform}:{user_id}" in self.operators

    def place_allowed(self, platform: str, scope_id: str, user_id: str) -> bool:
        """May a command from `user_id` in this place run at all?"""
        if self.allowed_places is None:
            return True
        if scope_id.startswith("dm:"):
            return self.allow_dms or self.is_operator(platform, user_id)
        return f"{platform}:{scope_id}" in self.allowed_places

    def clamp_daily(self, units: int) -> int:
        cap = self.max_community_daily_units
        return units if cap is None else min(units, cap)

    def clamp_pool(self, units: int | None) -> int | None:
        cap = self.max_community_pool_units
        return units if units is None or cap is None else min(units, cap)


def parse_ids(text: str, *, what: str) -> frozenset[str]:
    """"telegram:123, discord:456" -> {"telegram:123", "discord:456"}; a malformed entry is refused at start."""
    found: set[str] = set()
    for raw in text.split(","):
        item = raw.strip()
        if not item:
            continue
        platform, sep, ident = item.partition(":")
        if not sep or platform not in ("telegram", "discord", "console") or not ident.strip():
            raise InvalidParameter(f"{what}: {item[:40]!r} is not platform:id (e.g. telegram:123, discord:456).")
        found.add(f"{platform}:{ident.strip()}")
    return frozenset(found)


def places(text: str | None) -> frozenset[str] | None:
    """The allow-list setting: unset or blank = every place."""
    return None if text is None or not text.strip() else parse_ids(text, what="CASTBOT_ALLOWED_PLACES")


class CeilingAlarm:
    """Tells the operator once per 24 h that the spend ceiling refused a job: a log WARNING, a metric, the hook.

    A busy instance past its ceiling refuses hundreds of jobs; the operator needs one message, not hundreds.
    """

    def __init__(self, limits: OperatorLimits) -> None:
        self._limits = limits
        self._last: float | None = None

    def refused(self, *, spent: int, now: float) -> bool:
        """Count a refusal; alert when none was sent in the last 24 h. True when this call alerted."""
        metrics.CEILING_REFUSALS.inc()
        if self._last is not None and now - self._last < DAY:
            return False
        self._last = now
        text = (f"castbot: the daily spend ceiling ({self._limits.daily_spend_ceiling} units) is reached "
                f"({spent} units in the last 24 h); new jobs are refused until units free up. "
                "Raise CASTBOT_DAILY_SPEND_CEILING to allow more.")
        log.warning("%s", text)
        metrics.CEILING_ALERTS.inc()
        if self._limits.on_alert is not None:
            try:
                self._limits.on_alert(text)
            except Exception:  # an alert hook must never turn a refusal into a crash
                log.exception("operator alert hook failed")
        return True

