"""What the router answers: data, never text. Each adapter formats these its own way (plain, HTML, Markdown).

Lists come as pages (`has_more` says whether a next page exists) so an adapter never cuts a long list in
the middle of its markup: it shows the page and offers the next one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from core.moderation.rules import PromptFilter
from core.types import CharacterView, JobView, OutputImage, QuotaView, StatsView


@dataclass(frozen=True, slots=True)
class JobAccepted:
    """A job was written (or a replayed event found its job); status updates follow through the Messenger."""

    view: JobView


@dataclass(frozen=True, slots=True)
class QuotaShown:
    quota: QuotaView
    user_id: str  # whose quota: the actor, or the user an admin asked about


@dataclass(frozen=True, slots=True)
class HistoryPage:
    jobs: tuple[JobView, ...]
    page: int
    has_more: bool


@dataclass(frozen=True, slots=True)
class CharacterPage:
    characters: tuple[CharacterView, ...]
    prefix: str
    page: int
    has_more: bool


@dataclass(frozen=True, slots=True)
class CharacterShown:
    view: CharacterView
    image: bytes


@dataclass(frozen=True, slots=True)
class CharacterSaved:
    view: CharacterView


MAX_PENDING_CONSENTS = 200  # confirmations an adapter keeps waiting at once; beyond it the oldest lapses


@dataclass(frozen=True, slots=True)
class ConsentNeeded:
    """Nothing was stored: the user must confirm they may use this face (the same command with consent)."""

    name: str
    description: str
    job_id: str | None = None  # set when saving from a job's result (SaveFromJob), not from a sent photo


@dataclass(frozen=True, slots=True)
class Renamed:
    old_name: str
    view: CharacterView


@dataclass(frozen=True, slots=True)
class Deleted:
    name: str


@dataclass(frozen=True, slots=True)
class ForgetPreview:
    """Nothing removed yet: what /forget_me --confirm would remove (counts), and that it asks first."""

    characters: int
    jobs: int


@dataclass(frozen=True, slots=True)
class Forgotten:
    """Removed: counts of what went, and what deliberately stays (e.g. a community's ban)."""

    characters: int
    jobs: int
    files: int
    usernames: int
    kept: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Cancelled:
    view: JobView


@dataclass(frozen=True, slots=True)
class PolicyUpdated:
    daily_units: int
    pool_units: int | None
    window: str
    timezone: str
    character_limit: int
    unlimited_admins: bool


@dataclass(frozen=True, slots=True)
class BanChanged:
    user_id: str
    banned: bool


@dataclass(frozen=True, slots=True)
class Stats:
    stats: StatsView


@dataclass(frozen=True, slots=True)
class RatingShown:
    """A place's rating and the gate's settings; `lines()` words them once for every adapter."""

    rating: str  # "sfw" | "nsfw": what a job asked here now runs under
    platform_sfw: bool  # the platform itself rates this chat SFW (a Discord channel without the NSFW flag)
    flagged: str  # "withhold" | "spoiler": the community's choice for flagged images
    gate: str  # "" when the image classifier is on, else why it is off
    changed: bool = False

    def lines(self) -> tuple[str, ...]:
        head = "Rating set:" if self.changed else "Rating here:"
        if self.rating == "nsfw":
            return (f"{head} NSFW. castbot adds no safety terms and posts images as they come; the community's own "
                    "rules and the operator's rules still apply.",)
        where = " (Discord rates this channel safe for work)" if self.platform_sfw else ""
        gate = ("Every image is checked before it is posted; flagged ones are "
                + ("posted as spoilers." if self.flagged == "spoiler" else "held back.")
                if not self.gate else f"The image check is off on this castbot: {self.gate}.")
        return (f"{head} SFW{where}. castbot asks the model to avoid nudity and gore.", gate)


@dataclass(frozen=True, slots=True)
class FilterChanged:
    """A prompt filter was added or removed; `changed` False: it was already there (add)."""

    kind: str  # word | pattern
    value: str
    added: bool
    changed: bool = True

    def text(self, shown: Callable[[str], str]) -> str:
        """Worded once for every adapter; `shown` marks up the admin's own text (escaped, clipped) its way."""
        what = f"{self.kind} filter {shown(self.value)}"
        if not self.changed:
            return f"The {what} was already there."
        return f"Added the {what}." if self.added else f"Removed the {what}."


@dataclass(frozen=True, slots=True)
class FilterPage:
    filters: tuple[PromptFilter, ...]
    page: int
    has_more: bool

    def lines(self, shown: Callable[[str], str], more: str) -> list[str]:
        """One line per filter (`shown` marks up its text), then `more` (the next page's command) if any."""
        if not self.filters:
            return ["No prompt filters here yet." if self.page == 1 else f"No page {self.page} of filters."]
        return [f"{f.kind.value}: {shown(f.value)}" for f in self.filters] + ([more] if self.has_more else [])


@dataclass(frozen=True, slots=True)
class OutputDeleted:
    """The job's results are removed: `messages` posted results deleted on the platform by core (through the
    Messenger), and the stored images. With 0 (results posted before castbot kept their messages) a button's
    adapter deletes the message the button was on. `banned_user`: the author, when the admin banned them too."""

    job_id: str
    messages: int = 0
    banned_user: str | None = None
    left: int = 0  # posted messages the platform would not delete (too old, already gone): the admin is told


@dataclass(frozen=True, slots=True)
class Reported:
    """The report reached the admins (the same answer for a repeat: nothing about earlier reports is told)."""

    job_id: str


@dataclass(frozen=True, slots=True)
class LogEntry:
    """One line of /admin log: a job (`kind` "job") or a moderation event (`kind` as in core.store.modlog)."""

    at: float
    kind: str
    user_id: str  # the job's author, or whom the event is about
    job_id: str = ""
    user_name: str = ""
    chat_id: str = ""
    model: str = ""
    prompt: str = ""  # admins only: shown in the log, never in public
    outcome: str = ""  # a job's state (and error); an event's detail
    actor_id: str = ""  # who did it (a reporter, an admin); "" for castbot


@dataclass(frozen=True, slots=True)
class LogPage:
    """Admins only, and shown only to the asker (see `private_reason`)."""

    entries: tuple[LogEntry, ...]
    page: int
    has_more: bool
    user_id: str | None = None
    since: str | None = None


@dataclass(frozen=True, slots=True)
class OriginalFiles:
    job_id: str
    images: tuple[OutputImage, ...]


# --- help ------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OptionHelp:
    name: str  # the platform's own spelling (`--n`, `count`)
    what: str  # "how many images"
    allowed: str  # "1 to 20", "yes or no", "one of webp, jpg, png"
    default: str  # in the user's words: "1", "yes", "random"; "" when there is none


@dataclass(frozen=True, slots=True)
class ModelHelp:
    key: str
    summary: str
    units: int  # a job at default settings, here (core.pricing)
    max_units: int  # a job with every setting this platform offers at its dearest
    price: str  # both in words, with what raises the price: "2 units at defaults, up to 8 with ..."
    images: tuple[str, ...]  # one line per image role: "character (required): --image PATH"
    options: tuple[OptionHelp, ...]


@dataclass(frozen=True, slots=True)
class CommandHelp:
    name: str
    summary: str


@dataclass(frozen=True, slots=True)
class HelpAnswer:
    """`topic` None: the command list. Otherwise one command: its usage lines and, for generation, its models."""

    topic: str | None
    summary: str
    usage: tuple[str, ...] = ()
    commands: tuple[CommandHelp, ...] = ()
    models: tuple[ModelHelp, ...] = ()
    intro: tuple[str, ...] = ()  # /start's welcome lines


@dataclass(frozen=True, slots=True)
class Throttled:
    """A command refused by the rate limit after its one SlowDown answer: adapters show nothing (Discord, which
    must answer an interaction, answers only the sender). `retry_after`: seconds until a command is welcome."""

    retry_after: int


@dataclass(frozen=True, slots=True)
class Ignored:
    """Say nothing: core already answered this place or person once (an unlisted place); adapters send nothing
    (Discord, which must answer an interaction, deletes its "thinking" reply)."""

    reason: str  # "place": not on the operator's allow-list
    leave: bool = False  # the bot should leave this group or server (the operator's CASTBOT_LEAVE_UNLISTED)


Answer = (
    JobAccepted | QuotaShown | HistoryPage | CharacterPage | CharacterShown | CharacterSaved | ConsentNeeded
    | Renamed | Deleted | Cancelled | PolicyUpdated | BanChanged | Stats | RatingShown | OutputDeleted | OriginalFiles
    | HelpAnswer | ForgetPreview | Forgotten | Throttled | Ignored | FilterChanged | FilterPage | LogPage | Reported
)


def private_reason(answer: Answer) -> str | None:
    """Why only the asker may see this answer, or None when the chat may: members' prompts (the log) and the
    words a community refuses (its filters) are not for a group to read. Discord answers every such command
    ephemerally anyway; Telegram sends these to the asker's private chat and tells the group why, in these words."""
    if isinstance(answer, LogPage):
        return "it shows members' prompts"
    if isinstance(answer, FilterPage):
        return "it lists the words this community refuses"
    return None
