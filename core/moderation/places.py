"""The service's side of channel ratings: which rating a new job runs under, and `/admin rating`.

Permissions are checked by the caller (CastService, the one permission check); this module turns the
admins' words into stored settings and the answer everyone sees.
"""

from __future__ import annotations

import enum
from typing import Any

from core.clock import Clock
from core.commands.answers import RatingShown
from core.errors import BadChoice, InvalidParameter
from core.moderation.gate import SafetyGate
from core.moderation.ratings import Flagged, Rating, check_settable, effective
from core.store.database import Database
from core.store.modlog import ModLog
from core.store.ratings import RatingBook
from core.types import Actor, Place


class PlaceRatings:
    def __init__(self, store: Database, *, clock: Clock, gate: SafetyGate) -> None:
        self.book = RatingBook(store)
        self.modlog = ModLog(store)
        self.clock = clock
        self.gate = gate

    async def _log(self, actor: Actor, place: Place, kind: str, detail: str, now: float) -> None:
        await self.modlog.record(scope_id=place.scope_id, platform=place.platform, kind=kind, now=now,
                                 actor_id=actor.user_id, detail=detail)

    async def rating(self, place: Place) -> Rating:
        """What a job asked here now runs under (stored with the job: the gate judges it by this)."""
        return effective(place, await self.book.rating(platform=place.platform, chat_id=place.chat_id))

    async def show_or_change(self, actor: Actor, place: Place, *, rating: str | None,
                             flagged: str | None) -> RatingShown:
        new_rating = _choice(Rating, rating, "rating")
        new_flagged = _choice(Flagged, flagged, "flagged")
        now = self.clock.now()
        if new_rating is not None:
            check_settable(place, new_rating)
            await self.book.set_rating(platform=place.platform, chat_id=place.chat_id, scope_id=place.scope_id,
                                       rating=new_rating, now=now)
            await self._log(actor, place, "rating_set", f"chat {place.chat_id} rated {new_rating.value}", now)
        if new_flagged is not None:
            await self.book.set_flagged(place.scope_id, new_flagged, now=now)
            await self._log(actor, place, "gate_choice_set", f"flagged images: {new_flagged.value}", now)
        classifier = self.gate.classifier
        return RatingShown(rating=(await self.rating(place)).value, platform_sfw=place.nsfw is False,
                           flagged=(await self.book.flagged(place.scope_id)).value,
                           gate="" if classifier.active else getattr(classifier, "reason", "no classifier"),
                           changed=new_rating is not None or new_flagged is not None)


def _choice(kind: type[enum.StrEnum], raw: str | None, option: str) -> Any:
    if raw is None:
        return None
    try:
        return kind(raw)
    except ValueError:
        choices = tuple(k.value for k in kind)
        if option == "rating":  # a word, not an --option, in the text grammar: say it plainly everywhere
            raise InvalidParameter(f"A rating is {' or '.join(choices)}; got “{raw[:40]}”.", param=option) from None
        raise BadChoice(model="", option=option, choices=choices, value=raw) from None
