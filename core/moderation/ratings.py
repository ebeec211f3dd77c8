"""Channel ratings: every place is SFW unless marked otherwise, and what an SFW place changes.

Where the platform rates its chats (Discord's per-channel NSFW flag) that flag is the upper bound: an
admin may make an NSFW channel SFW for castbot, never the reverse (that would step around Discord's
age gate). Where it does not (Telegram groups, the console) the admins' `/admin rating` decides, and
the default is SFW. A job keeps the rating it was asked under (the `rating` column), so the gate at
delivery judges it the same after a restart or a later change of the setting.

In an SFW place castbot adds SAFETY_NEGATIVE to the model's negative prompt (where the model has one),
and the safety gate classifies every output before it is posted.
"""

from __future__ import annotations

import enum
from typing import Any

from core.catalog import Model
from core.errors import InvalidParameter
from core.types import Place


class Rating(enum.StrEnum):
    SFW = "sfw"
    NSFW = "nsfw"


class Flagged(enum.StrEnum):
    """What an SFW community wants done with an image the gate flags."""

    WITHHOLD = "withhold"  # not posted at all (the default)
    SPOILER = "spoiler"  # posted behind the platform's spoiler cover


# What the model is told to avoid in SFW places; short, so it does not crowd out the user's own negative.
SAFETY_NEGATIVE = "nsfw, nudity, naked, nipples, explicit, sexual, porn, lingerie, gore"

NSFW_NEEDS_PLATFORM = ("Discord rates this channel safe for work, and castbot follows it: an admin can mark "
                       "the channel age-restricted in its Discord settings (then castbot may post NSFW here).")


def effective(place: Place, stored: Rating | None) -> Rating:
    """The rating a job asked here runs under."""
    if place.nsfw is False:
        return Rating.SFW
    if place.nsfw is True:
        return Rating.SFW if stored is Rating.SFW else Rating.NSFW
    return stored or Rating.SFW


def check_settable(place: Place, rating: Rating) -> None:
    """An admin can't lift the platform's own SFW flag from castbot's side."""
    if rating is Rating.NSFW and place.nsfw is False:
        raise InvalidParameter(NSFW_NEEDS_PLATFORM, param="rating")


def with_safety_negative(model: Model, payload: dict[str, Any], rating: Rating) -> dict[str, Any]:
    """The payload with the safety terms merged into the model's negative prompt (user's words first)."""
    if rating is not Rating.SFW or not model.negative_field:
        return payload
    current = str(payload.get(model.negative_field) or "").strip().rstrip(",").strip()
    if SAFETY_NEGATIVE in current:  # a re-roll copies the payload that already has it
        return payload
    merged = f"{current}, {SAFETY_NEGATIVE}" if current else SAFETY_NEGATIVE
    return {**payload, model.negative_field: merged}
