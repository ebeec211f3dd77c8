"""Platform-neutral types that travel between adapters and core.

Adapters parse platform events into these; core never sees a discord or telegram object.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Actor:
    """Who asked: a user on one platform."""

    platform: str  # "discord" | "telegram" | "console"
    user_id: str
    name: str = ""
    is_admin: bool = False  # community admin as the platform reports it (Manage Server, group admin)


@dataclass(frozen=True, slots=True)
class Place:
    """Where it was asked: the community scope and the chat inside it."""

    platform: str
    scope_id: str  # Discord guild, Telegram group, or "dm:<user_id>" for a private scope
    chat_id: str
    # The platform's own rating of the chat where it has one (a Discord channel's NSFW flag); None where
    # it has none (Telegram, console): core.moderation.ratings then reads the admins' setting.
    nsfw: bool | None = None


class ImageRole(enum.StrEnum):
    CHARACTER = "character"
    POSE = "pose"
    SCENE = "scene"


@dataclass(frozen=True, slots=True)
class ImageInput:
    """An image handed in by a user; `data` holds bytes already through core.images intake."""

    role: ImageRole
    data: bytes
    filename: str = "image.png"
    mime: str = "image/png"


@dataclass(frozen=True, slots=True)
class Request:
    """One generation request, as every adapter builds it."""

    actor: Actor
    place: Place
    model: str  # catalog key: poses | illustration | scene | sheet | pose
    prompt: str = ""
    negative: str | None = None
    character_name: str | None = None
    images: tuple[ImageInput, ...] = ()
    params: dict[str, Any] = field(default_factory=dict)  # user-facing flag name -> raw value
    idem_key: str = ""  # platform event id; a replay with the same key is charged once
    reply_ref: str = ""  # opaque, adapter-owned reference to the status message


class JobState(enum.StrEnum):
    ACCEPTED = "accepted"  # validated, quota held, waiting for a slot
    SUBMITTED = "submitted"  # Segmind has it (request id / poll url saved), not yet seen running
    RUNNING = "running"  # Segmind reports PROCESSING
    COMPLETED = "completed"  # outputs downloaded and stored, not yet delivered
    DELIVERED = "delivered"  # the user has the images; quota captured
    FAILED = "failed"  # Segmind or castbot refused or broke; hold released
    CANCELLED = "cancelled"  # the user (or an admin) cancelled; hold released
    EXPIRED = "expired"  # results vanished before download (404 after retention); hold released
    # the image safety gate held the results back in an SFW place; the hold is released or captured as the
    # operator set (Segmind charged castbot either way), so the ledger, not the state, says which
    WITHHELD = "withheld"

    @property
    def is_final(self) -> bool:
        """Nothing will happen to the job any more; its hold is captured or released."""
        return self in FINAL_STATES

    @property
    def is_cancellable(self) -> bool:
        """Queued or at Segmind: a cancel still stops it. A completed job is already being delivered."""
        return self in CANCELLABLE_STATES


FINAL_STATES = frozenset({JobState.DELIVERED, JobState.FAILED, JobState.CANCELLED, JobState.EXPIRED,
                          JobState.WITHHELD})
CANCELLABLE_STATES = frozenset({JobState.ACCEPTED, JobState.SUBMITTED, JobState.RUNNING})


@dataclass(frozen=True, slots=True)
class OutputImage:
    """A generated image, stored under the data directory and delivered as bytes."""

    data: bytes
    mime: str
    filename: str
    path: str = ""
    spoiler: bool = False  # the safety gate flagged it and the community chose spoilers over withholding


@dataclass(frozen=True, slots=True)
class JobView:
    """What a messenger renders for one job at one moment."""

    job_id: str
    state: JobState
    model: str
    prompt: str = ""
    owner_id: str = ""
    position: int | None = None  # 1-based place in the queue while accepted
    elapsed: float = 0.0  # seconds since accepted
    eta: float | None = None  # seconds until expected completion
    progress: float = 0.0  # 0..1, for a text progress bar
    outputs: tuple[str, ...] = ()  # stored output paths
    error: str | None = None  # user-facing explanation when failed / expired / cancelled
    seed: int | None = None
    cost: int = 0


@dataclass(frozen=True, slots=True)
class CharacterView:
    """A saved character as adapters show it."""

    character_id: str
    name: str
    description: str
    owner_id: str  # platform user id of whoever saved it
    scope_id: str
    image_path: str  # normalized reference image under the data directory
    created_at: float = 0.0


@dataclass(frozen=True, slots=True)
class QuotaView:
    """A user's standing in a community."""

    balance: int | None  # units left now; None = unlimited
    daily_units: int  # per-user allowance per day (0 = none beyond grants)
    used_today: int
    held: int  # units reserved by jobs still running
    resets_at: float | None  # epoch seconds of the next refill
    pool_balance: int | None = None  # community pool, when the community has one
    banned: bool = False
    personal_cap: int | None = None  # the operator's cap per person across all communities (None: no cap)
    capped_by_operator: bool = False  # that cap, not this community's allowance, is what `balance` shows


@dataclass(frozen=True, slots=True)
class StatsView:
    """A community's figures, for admins."""

    jobs_by_state: dict[str, int]
    units_spent: int
    users: int
    characters: int
