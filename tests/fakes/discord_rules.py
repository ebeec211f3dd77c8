"""Discord's documented limits, as pure checks: what the real API refuses with 400 / 50035 "Invalid Form Body".

Each number names where Discord documents it (discord/discord-api-docs, `developers/...`):
  commands  — interactions/application-commands.mdx: "Application Command Naming", "Application Command
              Structure", "Application Command Option Structure", "Option Choice Structure", and the
              "Slash Commands" warning on combined size (8000 since 2024-02; it was 4000 before)
  messages  — resources/message.mdx: Create Message "JSON/Form Params" (content 2000, embeds 10) and
              "Embed Limits" (per field, 6000 combined)
  components— components/reference.mdx: Action Row "up to 5 buttons", legacy messages "up to 5 action
              rows", custom_id "1-100 characters", unique per message; Button label 80
  mentions  — resources/message.mdx: "Allowed Mentions Object" (parse is mutually exclusive with
              users/roles, max 100 ids each, defaults per context)
  files     — reference.mdx "Uploading Files" (per-file limit = the interaction's attachment_size_limit,
              10 MiB default) and Create Message "Limitations" (25 MiB per request); 10 files per message
              is what discord.py enforces (`files` "up to 10") and the API answers above it
Error bodies follow reference.mdx "Error Messages": nested keys, `_errors` lists of {code, message}.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

NAME_MAX = 32
DESCRIPTION_MAX = 100
OPTIONS_MAX = 25
CHOICES_MAX = 25
CHOICE_NAME_MAX = 100
CHOICE_VALUE_MAX = 100
COMMAND_CHARS_MAX = 8000
CONTENT_MAX = 2000
EMBEDS_MAX = 10
EMBED_CHARS_MAX = 6000
EMBED_FIELD_LIMITS = {"title": 256, "description": 4096, "footer.text": 2048, "author.name": 256}
EMBED_FIELDS_MAX, FIELD_NAME_MAX, FIELD_VALUE_MAX = 25, 256, 1024
ROWS_MAX = 5
ROW_COMPONENTS_MAX = 5
CUSTOM_ID_MAX = 100
LABEL_MAX = 80
FILES_MAX = 10
MENTION_IDS_MAX = 100
REQUEST_MAX = 25 * 1024 * 1024
SUB_COMMAND, SUB_COMMAND_GROUP, STRING = 1, 2, 3
_SCRIPTS_WITH_MARKS = ("DEVANAGARI", "THAI")  # \p{sc=Deva} \p{sc=Thai}: their combining marks are allowed


@dataclass(frozen=True)
class Problem:
    """One refused field: where in the body, Discord's error code and message for it."""

    path: tuple[str | int, ...]
    code: str
    message: str


def form_error(problems: Iterable[Problem], *, under: tuple[str | int, ...] = ()) -> dict[str, Any]:
    """The 400 body Discord sends: {"code": 50035, "message": "Invalid Form Body", "errors": {...}}."""
    errors: dict[str, Any] = {}
    for p in problems:
        node = errors
        for key in (*under, *p.path):
            node = node.setdefault(str(key), {})
        node.setdefault("_errors", []).append({"code": p.code, "message": p.message})
    return {"code": 50035, "message": "Invalid Form Body", "errors": errors}


def _bad_length(path: tuple[str | int, ...], low: int, high: int) -> Problem:
    return Problem(path, "BASE_TYPE_BAD_LENGTH", f"Must be between {low} and {high} in length.")


def _too_long(path: tuple[str | int, ...], high: int) -> Problem:
    return Problem(path, "BASE_TYPE_MAX_LENGTH", f"Must be {high} or fewer in length.")


# --- application commands ---------------------------------------------------------------------------

def valid_name(name: str) -> bool:
    """`^[-_'\\p{L}\\p{N}\\p{sc=Deva}\\p{sc=Thai}]{1,32}$`, lowercase where a lowercase variant exists."""
    if not 1 <= len(name) <= NAME_MAX or name != name.lower():
        return False
    for ch in name:
        if ch in "-_'" or ch.isalpha() or unicodedata.category(ch).startswith("N"):
            continue
        if unicodedata.category(ch).startswith("M") and unicodedata.name(ch, "").startswith(_SCRIPTS_WITH_MARKS):
            continue
        return False
    return True


def command_problems(cmd: dict[str, Any]) -> list[Problem]:
    """Everything Discord refuses in one CHAT_INPUT command of a bulk overwrite."""
    if cmd.get("type", 1) != 1:
        return []
    problems = _named(cmd, ())
    problems += _options(cmd.get("options") or [], ("options",))
    if command_chars(cmd) > COMMAND_CHARS_MAX:
        problems.append(Problem((), "APPLICATION_COMMAND_TOO_LARGE",
                                f"Command exceeds maximum size ({COMMAND_CHARS_MAX})"))
    return problems


def command_chars(cmd: dict[str, Any]) -> int:
    """Combined name, description and value characters of a command, its options and choices."""
    total = len(cmd.get("name", "")) + len(cmd.get("description", ""))
    for opt in cmd.get("options") or []:
        total += command_chars(opt)
    for choice in cmd.get("choices") or []:
        total += len(str(choice.get("name", ""))) + len(str(choice.get("value", "")))
    return total


def _named(item: dict[str, Any], path: tuple[str | int, ...]) -> list[Problem]:
    problems = []
    if not valid_name(str(item.get("name", ""))):
        problems.append(Problem((*path, "name"), "APPLICATION_COMMAND_INVALID_NAME", "Command name is invalid"))
    if not 1 <= len(str(item.get("description", ""))) <= DESCRIPTION_MAX:
        problems.append(_bad_length((*path, "description"), 1, DESCRIPTION_MAX))
    return problems


def _options(options: list[dict[str, Any]], path: tuple[str | int, ...]) -> list[Problem]:
    problems: list[Problem] = []
    if len(options) > OPTIONS_MAX:
        problems.append(_too_long(path, OPTIONS_MAX))
    names = [o.get("name") for o in options]
    if len(set(names)) != len(names):
        problems.append(Problem(path, "APPLICATION_COMMAND_OPTION_NAME_NOT_UNIQUE", "Option names must be unique"))
    seen_optional = False
    for i, opt in enumerate(options):
        where = (*path, i)
        problems += _named(opt, where)
        if opt.get("type") in (SUB_COMMAND, SUB_COMMAND_GROUP):
            problems += _options(opt.get("options") or [], (*where, "options"))
            continue
        if opt.get("required"):
            if seen_optional:
                problems.append(Problem(where, "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID",
                                        "Required options must be placed before non-required options"))
        else:
            seen_optional = True
        problems += _choices(opt, where)
    return problems


def _choices(opt: dict[str, Any], where: tuple[str | int, ...]) -> list[Problem]:
    choices = opt.get("choices") or []
    problems = []
    if len(choices) > CHOICES_MAX:
        problems.append(_too_long((*where, "choices"), CHOICES_MAX))
    if choices and opt.get("autocomplete"):
        problems.append(Problem((*where, "autocomplete"), "APPLICATION_COMMAND_AUTOCOMPLETE_INVALID",
                                "Autocomplete cannot be set for options with choices"))
    for j, choice in enumerate(choices):
        if not 1 <= len(str(choice.get("name", ""))) <= CHOICE_NAME_MAX:
            problems.append(_bad_length((*where, "choices", j, "name"), 1, CHOICE_NAME_MAX))
        value = choice.get("value")
        if opt.get("type") == STRING and not 1 <= len(str(value)) <= CHOICE_VALUE_MAX:
            problems.append(_bad_length((*where, "choices", j, "value"), 1, CHOICE_VALUE_MAX))
    return problems


def autocomplete_problems(data: dict[str, Any]) -> list[Problem]:
    """An autocomplete result (callback type 8): at most 25 choices, names 1-100 characters."""
    choices = data.get("choices") or []
    problems = [_too_long(("choices",), CHOICES_MAX)] if len(choices) > CHOICES_MAX else []
    for j, choice in enumerate(choices):
        if not 1 <= len(str(choice.get("name", ""))) <= CHOICE_NAME_MAX:
            problems.append(_bad_length(("choices", j, "name"), 1, CHOICE_NAME_MAX))
    return problems


# --- messages ---------------------------------------------------------------------------------------

def message_problems(data: dict[str, Any], files: int = 0) -> list[Problem]:
    """Everything Discord refuses in a message body (create, edit, follow-up, interaction response)."""
    problems: list[Problem] = []
    content = data.get("content")
    if isinstance(content, str) and len(content) > CONTENT_MAX:
        problems.append(_too_long(("content",), CONTENT_MAX))
    problems += _embeds(data.get("embeds") or [])
    problems += _components(data.get("components") or [], int(data.get("flags") or 0))
    if files > FILES_MAX:
        problems.append(_too_long(("attachments",), FILES_MAX))
    problems += _allowed_mentions(data.get("allowed_mentions"))
    return problems


def _embeds(embeds: list[dict[str, Any]]) -> list[Problem]:
    problems = [_too_long(("embeds",), EMBEDS_MAX)] if len(embeds) > EMBEDS_MAX else []
    total = 0
    for i, embed in enumerate(embeds):
        for key, limit in EMBED_FIELD_LIMITS.items():
            head, _, sub = key.partition(".")
            value = str(((embed.get(head) or {}).get(sub) if sub else embed.get(head)) or "").strip()
            total += len(value)
            if len(value) > limit:
                problems.append(_too_long(("embeds", i, *key.split(".")), limit))
        fields = embed.get("fields") or []
        if len(fields) > EMBED_FIELDS_MAX:
            problems.append(_too_long(("embeds", i, "fields"), EMBED_FIELDS_MAX))
        for j, f in enumerate(fields):
            name, value = str(f.get("name", "")).strip(), str(f.get("value", "")).strip()
            total += len(name) + len(value)
            if len(name) > FIELD_NAME_MAX:
                problems.append(_too_long(("embeds", i, "fields", j, "name"), FIELD_NAME_MAX))
            if len(value) > FIELD_VALUE_MAX:
                problems.append(_too_long(("embeds", i, "fields", j, "value"), FIELD_VALUE_MAX))
    if total > EMBED_CHARS_MAX:
        problems.append(Problem(("embeds",), "MAX_EMBED_SIZE_EXCEEDED",
                                f"Embed size exceeds maximum size of {EMBED_CHARS_MAX}"))
    return problems


def _components(rows: list[dict[str, Any]], flags: int) -> list[Problem]:
    if flags & (1 << 15):  # IS_COMPONENTS_V2: a different layout, not used by castbot; only its total is checked
        return [_too_long(("components",), 40)] if len(rows) > 40 else []
    problems = [_bad_length(("components",), 0, ROWS_MAX)] if len(rows) > ROWS_MAX else []
    ids: list[str] = []
    for i, row in enumerate(rows):
        children = row.get("components") or []
        if row.get("type") != 1:
            problems.append(Problem(("components", i, "type"), "UNION_TYPE_CHOICES", "Value must be an action row."))
        if not 1 <= len(children) <= ROW_COMPONENTS_MAX:
            problems.append(_bad_length(("components", i, "components"), 1, ROW_COMPONENTS_MAX))
        for j, child in enumerate(children):
            where = ("components", i, "components", j)
            if "custom_id" in child:
                cid = str(child["custom_id"])
                ids.append(cid)
                if not 1 <= len(cid) <= CUSTOM_ID_MAX:
                    problems.append(_bad_length((*where, "custom_id"), 1, CUSTOM_ID_MAX))
            elif child.get("type") == 2 and child.get("style") not in (5, 6):  # only link/premium buttons lack one
                problems.append(Problem((*where, "custom_id"), "BASE_TYPE_REQUIRED", "This field is required"))
            if len(str(child.get("label") or "")) > LABEL_MAX:
                problems.append(_too_long((*where, "label"), LABEL_MAX))
    if len(set(ids)) != len(ids):
        problems.append(Problem(("components",), "COMPONENT_CUSTOM_ID_DUPLICATED",
                                "Component custom id cannot be duplicated"))
    return problems


def _allowed_mentions(am: Any) -> list[Problem]:
    if not isinstance(am, dict):
        return []
    parse = am.get("parse") or []
    problems = []
    for kind in ("users", "roles"):
        ids = am.get(kind) or []
        if kind in parse and ids:
            problems.append(Problem(("allowed_mentions",), "MESSAGE_ALLOWED_MENTIONS_PARSE_EXCLUSIVE",
                                    f'parse:["{kind}"] and {kind}: [ids...] are mutually exclusive.'))
        if len(ids) > MENTION_IDS_MAX:
            problems.append(_too_long(("allowed_mentions", kind), MENTION_IDS_MAX))
    return problems


# --- mentions ---------------------------------------------------------------------------------------

_USER = re.compile(r"<@!?(\d+)>")
_ROLE = re.compile(r"<@&(\d+)>")
EVERYTHING = ("users", "roles", "everyone")  # the default in regular messages
USERS_ONLY = ("users",)  # the default in interaction responses and webhook messages


@dataclass(frozen=True)
class Pings:
    """Who a message notifies: computed from its content and allowed_mentions the way Discord does."""

    everyone: bool = False
    here: bool = False
    users: frozenset[str] = field(default_factory=frozenset)
    roles: frozenset[str] = field(default_factory=frozenset)

    def __bool__(self) -> bool:
        return self.everyone or self.here or bool(self.users) or bool(self.roles)


def pings(content: str, allowed_mentions: Any, *, default: tuple[str, ...]) -> Pings:
    """A mention notifies only if it is in the content AND allowed (by `parse` or by id)."""
    am = allowed_mentions if isinstance(allowed_mentions, dict) else None
    parse = set(default if am is None else (am.get("parse") or []))
    listed_users = {str(u) for u in (am or {}).get("users") or []}
    listed_roles = {str(r) for r in (am or {}).get("roles") or []}
    users = {u for u in _USER.findall(content) if "users" in parse or u in listed_users}
    roles = {r for r in _ROLE.findall(content) if "roles" in parse or r in listed_roles}
    return Pings("everyone" in parse and "@everyone" in content, "everyone" in parse and "@here" in content,
                 frozenset(users), frozenset(roles))
