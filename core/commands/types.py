"""What a user asked for, as frozen data: every platform builds these, one router runs them.

The text grammar (Telegram, console) builds them in `core.commands.parser`; Discord builds the same
objects from its typed options. Images and users are named the way the platform can name them:
an `ImageSource` is a handle core can validate before anything is downloaded, a `UserRef` is either a
resolved platform user id or the text the user typed (which core refuses rather than guessing).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from core.commands.table import usage_line
from core.errors import Usage, UserError
from core.types import ImageRole

GENERATION_COMMANDS = ("imagine", "pose", "scene", "sheet")


@dataclass(frozen=True, slots=True)
class UserRef:
    """A user as the platform could name them: `user_id` when resolved, else the raw `text` (`@bob`)."""

    user_id: str | None = None
    text: str = ""  # what was typed, kept for the refusal message

    @property
    def resolved(self) -> bool:
        return bool(self.user_id)


@dataclass(frozen=True, slots=True)
class ImageSource:
    """An image the user offered, not yet downloaded. `handle` is the adapter's own (a file id, a path).

    `role` is the slot the user put it in (Discord's pose_image option, the console's --pose-image), or
    None for a positional image (a Telegram photo, the console's --image) that core assigns to a slot.
    """

    handle: Any = field(compare=False)
    role: ImageRole | None = None
    filename: str = "image"
    mime: str = ""
    size: int | None = None  # bytes, when the platform says so before the download


Fetch = Callable[[ImageSource], Awaitable[bytes]]  # the adapter's download, called only after precheck


# --- generation ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Generate:
    command: str  # imagine | pose | scene | sheet
    model: str | None = None  # catalog key; None = the command's default model
    prompt: str = ""
    negative: str | None = None
    character: str | None = None  # a saved character's name
    options: Mapping[str, str] = field(default_factory=dict)  # user-facing option name (`n`) -> raw value


# --- characters ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CharacterSave:
    """Save the one attached image as a character. `consent` comes only from an explicit --consent / option."""

    name: str
    description: str = ""
    consent: bool = False


@dataclass(frozen=True, slots=True)
class CharacterList:
    prefix: str = ""
    page: int = 1


@dataclass(frozen=True, slots=True)
class CharacterShow:
    name: str


@dataclass(frozen=True, slots=True)
class CharacterRename:
    name: str
    new_name: str


@dataclass(frozen=True, slots=True)
class CharacterDelete:
    name: str


# --- account ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Quota:
    pass


@dataclass(frozen=True, slots=True)
class History:
    page: int = 1


@dataclass(frozen=True, slots=True)
class Cancel:
    job_id: str | None = None  # None: the actor's latest running job here


@dataclass(frozen=True, slots=True)
class ForgetMe:
    """Remove everything of the actor on this platform; without `confirm` only say what would go."""

    confirm: bool = False


@dataclass(frozen=True, slots=True)
class Help:
    topic: str | None = None  # a command name, or None for the list


@dataclass(frozen=True, slots=True)
class Start:
    pass


# --- admin -----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AdminQuota:
    """`/admin quota --daily 5 …`: change the community policy; with only `user`, show that user's quota."""

    daily: int | None = None
    pool: int | None = None
    clear_pool: bool = False  # `--pool none`: switch the community pool off
    window: str | None = None  # calendar | rolling
    timezone: str | None = None
    characters: int | None = None  # saved-character limit
    unlimited_admins: bool | None = None
    user: UserRef | None = None

    def policy_changes(self) -> dict[str, Any]:
        """The store's policy fields this command sets."""
        changes: dict[str, Any] = {}
        for name, key in (("daily", "daily_units"), ("pool", "pool_units"), ("window", "window"),
                          ("timezone", "timezone"), ("characters", "character_limit"),
                          ("unlimited_admins", "unlimited_admins")):
            value = getattr(self, name)
            if value is not None:
                changes[key] = value
        if self.clear_pool:
            changes["pool_units"] = None
        return changes


@dataclass(frozen=True, slots=True)
class AdminBan:
    user: UserRef


@dataclass(frozen=True, slots=True)
class AdminUnban:
    user: UserRef


@dataclass(frozen=True, slots=True)
class AdminStats:
    pass


@dataclass(frozen=True, slots=True)
class AdminRating:
    """`/admin rating [sfw|nsfw] [--flagged withhold|spoiler]`: show this place's rating, or (admins) set it and
    what the community does with images the safety gate flags. Values are checked by core.moderation.ratings."""

    rating: str | None = None
    flagged: str | None = None


FILTER_ACTIONS = ("add", "remove", "list")


@dataclass(frozen=True, slots=True)
class AdminFilter:
    """`/admin filter add|remove WORD`, `... --pattern REGEX`, `/admin filter list`: the community's prompt filters."""

    action: str  # add | remove | list
    value: str = ""  # the word or phrase, or the pattern
    pattern: bool = False
    page: int = 1

    @classmethod
    def from_options(cls, action: str, *, word: str | None = None, pattern: str | None = None,
                     page: int = 1) -> AdminFilter:
        """From a platform's typed options (Discord): add and remove take exactly one of word and pattern."""
        if action not in FILTER_ACTIONS or (action != "list" and (word is None) == (pattern is None)):
            raise Usage(command="admin", usage=usage_line("admin"))
        return cls(action, pattern if pattern is not None else word or "", pattern is not None, page)


@dataclass(frozen=True, slots=True)
class AdminLog:
    """`/admin log [USER] [--since 2h|3d|2026-12-01] [--page N]`: jobs and moderation events, newest first.
    `since` stays text: core reads it against its own clock."""

    user: UserRef | None = None
    since: str | None = None
    page: int = 1


# --- buttons under a job's message -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Reroll:
    job_id: str
    same_seed: bool = False


@dataclass(frozen=True, slots=True)
class SaveFromJob:
    """Save a job's result image as a character. `consent`: the saver's explicit confirmation (--consent or the
    button), needed unless the job was made only from the saver's own saved character."""

    job_id: str
    name: str
    index: int = 0  # 0-based image of the job
    consent: bool = False


@dataclass(frozen=True, slots=True)
class DeleteOutput:
    """The Delete button, or an admin's `/admin remove JOB [--ban]`: one removal path (core.moderation.audit)."""

    job_id: str
    ban: bool = False  # also ban the job's author (admins only)


@dataclass(frozen=True, slots=True)
class Report:
    """A member flags a result to the community's admins (the Report button; the console's /report JOB)."""

    job_id: str


@dataclass(frozen=True, slots=True)
class Originals:
    job_id: str


@dataclass(frozen=True, slots=True)
class Invalid:
    """A command the adapter could not build (a parse error, a refused attachment). Still the person's command:
    the router counts it against their rate before raising `error`, so a flood of typos is a flood too."""

    error: UserError


Command = (
    Generate | CharacterSave | CharacterList | CharacterShow | CharacterRename | CharacterDelete | Quota | History
    | Cancel | Help | Start | AdminQuota | AdminBan | AdminUnban | AdminStats | AdminRating | AdminFilter | AdminLog
    | Reroll | SaveFromJob | DeleteOutput | Originals | ForgetMe | Report | Invalid
)
