"""castbot's errors: what users caused, and what Segmind answered.

User errors carry a friendly message. Errors about a command's options and images carry data (model,
option, role, limit, value) instead, and are worded for each platform by one function, `word(exc, phrasing)`;
their `str()` is the text grammar's wording. Segmind's errors live in
core.segmind.errors; errors about a command's images in core.image_errors.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.phrasing import TEXT, Phrasing


class CastbotError(Exception):
    """Base of everything castbot raises on purpose."""


class UserError(CastbotError):
    """The user can fix this; `str(exc)` is the message to show them."""


class InvalidParameter(UserError):
    def __init__(self, message: str, *, param: str | None = None) -> None:
        super().__init__(message)
        self.param = param


class ImageRejected(UserError):
    """An input image was refused by the intake (size, format, bomb, host)."""


class QuotaExhausted(UserError):
    def __init__(self, message: str, *, resets_at: float | None = None) -> None:
        super().__init__(message)
        self.resets_at = resets_at


class PersonalCapReached(QuotaExhausted):
    """The operator's per-person cap across every community and DM on a platform binds (core.store.caps)."""

    def __init__(self, message: str, *, cap: int, resets_at: float | None = None) -> None:
        super().__init__(message, resets_at=resets_at)
        self.cap = cap


class SpendCeilingReached(QuotaExhausted):
    """The whole instance reached the operator's daily spend ceiling (core.store.caps)."""


class NotAllowed(UserError):
    """The actor may not do this (not the owner, not an admin, banned); see core.permissions."""

    def __init__(self, message: str, *, action: str | None = None, role: str | None = None) -> None:
        super().__init__(message)
        self.action = action  # a core.permissions.Action value
        self.role = role  # the actor's core.permissions.Role towards the thing


class NotFoundError(UserError):
    """A character, job or command the user named does not exist here."""


class ConsentRequired(UserError):
    """Saving this face needs the saver's explicit confirmation first (the router answers ConsentNeeded)."""


class Conflict(UserError):
    """The thing already exists or is in a state that forbids the action."""


class ImageFlagged(UserError):
    """The image safety gate flagged these images in an SFW place: they are not handed out again here."""


class Worded(InvalidParameter):
    """A user error that carries data; `words(phrasing)` says it the platform's way."""

    param: str | None = None  # the API parameter or role at fault, for callers that branch on it

    def __post_init__(self) -> None:
        if self.param is None:
            self.param = getattr(self, "option", None) or getattr(self, "role", None)

    def words(self, ph: Phrasing) -> str:
        raise NotImplementedError

    def __str__(self) -> str:
        return self.words(TEXT)


def word(exc: BaseException, phrasing: Phrasing = TEXT) -> str:
    """The one wording of a user error for a platform; adapters show this and nothing else."""
    return exc.words(phrasing) if isinstance(exc, Worded) else str(exc)


@dataclass(eq=False)
class UnclosedQuote(Worded):
    def words(self, ph: Phrasing) -> str:
        return "A quote is not closed: put text with spaces inside \"double quotes\"."


@dataclass(eq=False)
class OptionNeedsValue(Worded):
    option: str

    def words(self, ph: Phrasing) -> str:
        return f"{ph.option(self.option)} needs a value, e.g. {ph.with_value(self.option, 4)}."


@dataclass(eq=False)
class UnknownCommand(Worded):
    command: str
    known: tuple[str, ...] = ()

    def words(self, ph: Phrasing) -> str:
        return f"There is no /{self.command} command. Send /help for the list."


@dataclass(eq=False)
class Usage(Worded):
    """A command was used the wrong way; `usage` is the grammar's usage line (`{attach}`: how to attach a photo)."""

    command: str
    usage: str

    def words(self, ph: Phrasing) -> str:
        return "Use " + self.usage.replace("{attach}", ph.attach_role("character"))


@dataclass(eq=False)
class ModelNotAllowed(Worded):
    command: str
    model: str
    allowed: tuple[str, ...]

    def words(self, ph: Phrasing) -> str:
        choices = " or ".join(self.allowed)
        return f"/{self.command} works with {ph.option('model')} {choices}, not “{self.model}”."


@dataclass(eq=False)
class UnknownOption(Worded):
    model: str
    option: str
    known: tuple[str, ...] = ()  # the options this model offers
    command: str = ""  # set for options of a command rather than a model (`admin quota`)

    def words(self, ph: Phrasing) -> str:
        offered = [ph.option(o) for o in self.known if ph.offers(o)]
        where = f"/{self.command}" if self.command else f"“{self.model}”"
        return f"{where} has no option {ph.option(self.option)}. Its options: {', '.join(offered) or 'none'}."


@dataclass(eq=False)
class BadOptionValue(Worded):
    """The value is not of the option's kind (a whole number, a number, yes or no)."""

    model: str  # "" for options that belong to no model (admin settings)
    option: str
    kind: str  # "a whole number" | "a number" | "yes or no" | "text"
    expected: str  # the allowed range in words: "1 to 20", "yes or no"
    value: str

    param: str | None = None  # the API parameter's own name

    def words(self, ph: Phrasing) -> str:
        return f"{ph.option(self.option)} must be {self.kind} ({self.expected}); got “{_clip(self.value)}”."


@dataclass(eq=False)
class OptionOutOfRange(Worded):
    model: str
    option: str
    minimum: float | None
    maximum: float | None
    value: float | str

    param: str | None = None  # the API parameter's own name

    def words(self, ph: Phrasing) -> str:
        return (f"{ph.option(self.option)} must be from {_num(self.minimum)} to {_num(self.maximum)}; "
                f"got {_clip(self.value)}.")


@dataclass(eq=False)
class BadChoice(Worded):
    model: str
    option: str
    choices: tuple[str, ...]
    value: str

    param: str | None = None  # the API parameter's own name

    def words(self, ph: Phrasing) -> str:
        return f"{ph.option(self.option)} must be one of {', '.join(self.choices)}; got “{_clip(self.value)}”."


@dataclass(eq=False)
class PromptRequired(Worded):
    model: str

    def words(self, ph: Phrasing) -> str:
        return f"“{self.model}” needs a prompt: describe the picture you want."


@dataclass(eq=False)
class TextTooLong(Worded):
    option: str  # "prompt" or "neg"
    limit: int
    length: int

    def words(self, ph: Phrasing) -> str:
        what = "prompt" if self.option == "prompt" else "negative prompt"
        return f"The {what} is {self.length} characters; the limit is {self.limit}."


@dataclass(eq=False)
class NegativeNotTaken(Worded):
    model: str

    def words(self, ph: Phrasing) -> str:
        return f"“{self.model}” does not take a negative prompt."


@dataclass(eq=False)
class UnknownUser(Worded):
    """A user named in a way this platform could not resolve to an id (an unknown @name, nothing at all)."""

    text: str

    def words(self, ph: Phrasing) -> str:
        named = f"I don't know who “{_clip(self.text)}” is here" if self.text else "Say which user"
        return f"{named}: name them by {ph.name_user}."


@dataclass(eq=False)
class SlowDown(Worded):
    """Too many commands in a row from one person (core.commands.ratelimit): answered once per window."""

    retry_after: int  # seconds until the next command is welcome

    def words(self, ph: Phrasing) -> str:
        return f"Slow down — try again in {self.retry_after} s."


def _num(x: float | None) -> str:
    if x is None:
        return "?"
    return str(int(x)) if float(x).is_integer() else str(x)


def _clip(value: object, limit: int = 40) -> str:
    text = str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"
