"""The one text grammar (Telegram and console): a line in, a command object out.

`/imagine --char Luna on a beach --n 4 --neg "blurry" --model illustration`: a command, then words and
`--flag value` (or `--flag=value`) pairs in any order, split like a shell (shlex). Flags other than the
grammar's own (`--model`, `--char`, `--neg`) are kept as raw text for the catalog to check (precheck).
The console names image files inside the line (`--image PATH`); `ImageWords` says how, and the parser
hands those back as `(role, path)` pairs for the console to turn into ImageSources.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field

from core.commands import types as c
from core.commands.table import ADMIN_QUOTA_OPTIONS, COMMANDS, GENERATION, usage_line
from core.errors import (
    BadOptionValue,
    InvalidParameter,
    OptionNeedsValue,
    OptionOutOfRange,
    UnclosedQuote,
    UnknownCommand,
    UnknownOption,
    Usage,
)
from core.store.quota import MAX_UNITS
from core.types import ImageRole

_COMMAND_RE = re.compile(r"^/(?P<name>[A-Za-z0-9_-]{1,32})(?:@(?P<bot>[A-Za-z0-9_]{1,64}))?(?:\s+|$)")
_FLAG_RE = re.compile(r"^--(?P<name>[a-z][a-z0-9-]*)(?:=(?P<value>.*))?$", re.IGNORECASE)
_BARE_FLAGS = frozenset({"consent", "confirm", "ban"})  # flags that take no value
_TRUE, _FALSE = {"yes", "on", "true", "1", "y"}, {"no", "off", "false", "0", "n"}
NOT_A_COMMAND = "Commands start with /, for example /imagine --char Luna on a beach. Try /help."


@dataclass(frozen=True, slots=True)
class ParsedCommand:
    name: str
    addressee: str | None  # the @bot in `/cmd@bot`
    args: str


@dataclass(frozen=True, slots=True)
class ImageWords:
    """How image files are named inside a line: flag -> role (None = positional), and save's PATH word."""

    flags: Mapping[str, ImageRole | None] = field(default_factory=dict)
    save_path: bool = False  # `/character save NAME PATH [description]`


@dataclass(frozen=True, slots=True)
class Parsed:
    command: c.Command
    images: tuple[tuple[ImageRole | None, str], ...] = ()  # (role, path) named in the line


NO_IMAGE_WORDS = ImageWords()


def parse_command(text: str) -> ParsedCommand | None:
    """Split `/name@bot args`; None when the text is not a command."""
    match = _COMMAND_RE.match(text.strip())
    if match is None:
        return None
    # "/forget-me" reads as typed; the table's name is forget_me (Telegram allows no "-" in commands)
    return ParsedCommand(match["name"].lower().replace("-", "_"), match["bot"], text.strip()[match.end():].strip())


def split_args(args: str) -> list[str]:
    """shlex split (curly quotes count as quotes); an unbalanced quote is a friendly error."""
    try:
        return shlex.split(args.replace("“", '"').replace("”", '"'))
    except ValueError:
        raise UnclosedQuote() from None


def parse_flags(args: str) -> tuple[list[str], dict[str, str]]:
    """Words and `--flag value` pairs; a bare flag (`--consent`) maps to "yes"; a missing value is an error."""
    words: list[str] = []
    flags: dict[str, str] = {}
    tokens = split_args(args)
    i = 0
    while i < len(tokens):
        match = _FLAG_RE.match(tokens[i])
        if match is None:
            words.append(tokens[i])
            i += 1
            continue
        name = match["name"].lower()
        if match["value"] is not None:
            flags[name], i = match["value"], i + 1
        elif name in _BARE_FLAGS:
            flags[name], i = "yes", i + 1
        elif i + 1 >= len(tokens):
            raise OptionNeedsValue(option=name)
        else:
            flags[name], i = tokens[i + 1], i + 2
    return words, flags


def parse(text: str, images: ImageWords = NO_IMAGE_WORDS) -> Parsed:
    """The command in one line of text; raises a user error (core.errors) for anything malformed."""
    parsed = parse_command(text)
    if parsed is None:
        raise InvalidParameter(NOT_A_COMMAND)
    return to_command(parsed.name, parsed.args, images)


def to_command(name: str, args: str, images: ImageWords = NO_IMAGE_WORDS) -> Parsed:
    if name in GENERATION:
        return _generate(name, args, images)
    if name == "character":
        return _character(args, images)
    if name == "admin":
        return Parsed(_admin(args))
    words, flags = parse_flags(args)
    if name == "quota":
        return Parsed(c.Quota())
    if name == "history":
        return Parsed(c.History(page=_page(words[0] if words else flags.get("page", "1"))))
    if name == "cancel":
        return Parsed(c.Cancel(words[0] if words else None))
    if name == "help":
        return Parsed(c.Help(words[0].lstrip("/").lower() if words else None))
    if name == "start":
        return Parsed(c.Start())
    if name == "forget_me":
        return Parsed(c.ForgetMe(confirm="confirm" in flags))
    if name == "report":  # the Report button's typed form (the console has no buttons)
        if len(words) != 1 or flags:
            raise Usage(command="report", usage=usage_line("report"))
        return Parsed(c.Report(words[0]))
    raise UnknownCommand(command=name, known=tuple(COMMANDS))


def _generate(name: str, args: str, images: ImageWords) -> Parsed:
    words, flags = parse_flags(args)
    found = tuple((role, flags.pop(flag)) for flag, role in images.flags.items() if flag in flags)
    model = flags.pop("model", None)
    character = flags.pop("char", None) or flags.pop("character", None)
    command = c.Generate(command=name, model=model.lower() if model else None, prompt=" ".join(words),
                         negative=flags.pop("neg", None), character=character, options=flags)
    return Parsed(command, found)


def _character(args: str, images: ImageWords) -> Parsed:
    words, flags = parse_flags(args)
    sub, rest = (words[0].lower(), words[1:]) if words else ("list", [])
    if sub == "save" and rest:
        return _save(rest, flags, images)
    if sub == "list" and len(rest) <= 1:
        return Parsed(c.CharacterList(prefix=rest[0] if rest else "", page=_page(flags.get("page", "1"))))
    if sub == "show" and len(rest) == 1:
        return Parsed(c.CharacterShow(rest[0]))
    if sub == "rename" and len(rest) == 2:
        return Parsed(c.CharacterRename(rest[0], rest[1]))
    if sub == "delete" and len(rest) == 1:
        return Parsed(c.CharacterDelete(rest[0]))
    raise Usage(command="character", usage=usage_line("character"))


def _save(rest: list[str], flags: dict[str, str], images: ImageWords) -> Parsed:
    name, words = rest[0], rest[1:]
    if "job" in flags:
        index = _whole(flags.get("index", "1"), option="index", low=1, high=100)
        consent = flags.get("consent", "no").lower() in _TRUE
        return Parsed(c.SaveFromJob(job_id=flags["job"], name=name, index=index - 1, consent=consent))
    consent = flags.pop("consent", "no").lower() in _TRUE
    found = tuple((role, flags.pop(flag)) for flag, role in images.flags.items() if flag in flags)
    if images.save_path and not found and words:
        found, words = ((None, words[0]),), words[1:]
    return Parsed(c.CharacterSave(name=name, description=" ".join(words), consent=consent), found)


_FILTER_PATTERN_RE = re.compile(r"^filter\s+(?P<action>add|remove)\s+--pattern(?:=|\s+)(?P<pattern>.+)$",
                                re.IGNORECASE | re.DOTALL)


def _admin(args: str) -> c.Command:
    # A pattern is taken as typed, not split like a shell: its backslashes and quotes are the pattern's own.
    if match := _FILTER_PATTERN_RE.match(args.strip()):
        return c.AdminFilter(match["action"].lower(), _unquoted(match["pattern"].strip()), pattern=True)
    words, flags = parse_flags(args)
    sub = words[0].lower() if words else ""
    if sub == "quota" and flags and len(words) == 1:
        return _admin_quota(flags)
    if sub in ("ban", "unban") and len(words) <= 2:
        user = user_ref(words[1]) if len(words) == 2 else c.UserRef()
        return c.AdminBan(user) if sub == "ban" else c.AdminUnban(user)
    if sub == "stats" and len(words) == 1:
        return c.AdminStats()
    if sub == "rating" and len(words) <= 2 and set(flags) <= {"flagged"}:
        return c.AdminRating(rating=words[1].lower() if len(words) == 2 else None,
                             flagged=flags["flagged"].strip().lower() if "flagged" in flags else None)
    action = words[1].lower() if sub == "filter" and len(words) >= 2 else ""
    if action in ("add", "remove") and len(words) > 2 and not flags:
        return c.AdminFilter(action, " ".join(words[2:]))
    if action == "list" and len(words) <= 3:
        return c.AdminFilter("list", page=_page(words[2] if len(words) == 3 else flags.get("page", "1")))
    if sub == "log" and len(words) <= 2 and set(flags) <= {"since", "page", "user"}:
        who = words[1] if len(words) == 2 else flags.get("user")
        return c.AdminLog(user=user_ref(who) if who else None, since=flags.get("since"),
                          page=_page(flags.get("page", "1")))
    if sub == "remove" and len(words) == 2 and set(flags) <= {"ban"}:
        return c.DeleteOutput(words[1], ban=flags.get("ban", "no").lower() in _TRUE)
    raise Usage(command="admin", usage=usage_line("admin"))


def _unquoted(text: str) -> str:
    """`"(a+)+$"` -> `(a+)+$`: one pair of matching quotes around the whole pattern is the chat's, not the pattern's."""
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
        return text[1:-1]
    return text


def _admin_quota(flags: dict[str, str]) -> c.AdminQuota:
    values: dict[str, object] = {}
    for flag, raw in flags.items():
        if flag not in ADMIN_QUOTA_OPTIONS:
            raise UnknownOption(model="", option=flag, known=tuple(ADMIN_QUOTA_OPTIONS), command="admin quota")
        kind = ADMIN_QUOTA_OPTIONS[flag][1]
        text = raw.strip()
        if kind == "int-or-none" and text.lower() in ("none", "off"):
            values["clear_pool"] = True
        elif kind in ("int", "int-or-none"):
            values[flag] = _whole(text, option=flag, low=0, high=MAX_UNITS)
        elif kind == "bool":
            if text.lower() not in _TRUE | _FALSE:
                raise BadOptionValue(model="", option=flag, kind="yes or no", expected="yes or no", value=text)
            values[flag.replace("-", "_")] = text.lower() in _TRUE
        elif kind == "user":
            values["user"] = user_ref(text)
        else:
            values[flag] = text
    return c.AdminQuota(**values)  # type: ignore[arg-type]


def user_ref(word: str) -> c.UserRef:
    """A numeric id is taken as the platform's user id; anything else stays unresolved for the adapter."""
    word = word.strip()
    return c.UserRef(user_id=word if word.isdigit() else None, text=word)


def _page(raw: str) -> int:
    return _whole(raw, option="page", low=1, high=1000)


def _whole(raw: str, *, option: str, low: int, high: int) -> int:
    text = raw.strip()
    if not text.isdigit():
        raise BadOptionValue(model="", option=option, kind="a whole number", expected=f"{low} to {high}",
                             value=raw)
    value = int(text)
    if not low <= value <= high:
        raise OptionOutOfRange(model="", option=option, minimum=low, maximum=high, value=value)
    return value
