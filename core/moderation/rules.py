"""Word and pattern filters: a community's own (its admins', `/admin filter`) and the operator's optional blocklist.

A word filter is a word or phrase, matched as whole words after core.moderation.normalize undid the spelling
tricks (adding "banana" also refuses "B4N4N4", "b a n a n a" and "bananas", not "bandana"). A pattern filter is a
regular expression run by RE2 (google-re2), whose time is linear in the text whatever the pattern: an admin's
`(a+)+$` cannot hang the bot the way it would hang Python's backtracking `re`. RE2 has no backreferences or
lookarounds; a pattern it can't compile is refused when added, with RE2's reason. A pattern is matched without
regard to case against the folded text and against the text with its leetspeak decoded. Patterns are bounded in
length and in number per community, and RE2's memory per pattern is capped, so a huge repetition is refused too.
"""

from __future__ import annotations

import enum
import functools
from collections.abc import Iterable
from dataclasses import dataclass

import re2

from core.moderation.errors import FilterRefused
from core.moderation.normalize import Text, normalize

MAX_WORD = 60  # characters in a word filter
MAX_PATTERN = 200  # characters in a pattern
MAX_WORDS = 200  # word filters per community
MAX_PATTERNS = 25  # pattern filters per community
# Bytes RE2 may use for one compiled pattern (its DFA cache included; past it RE2 falls back to its slower, still
# linear NFA). With at most COMPILED_KEPT patterns cached, a crowd of hostile admins can pin at most 64 MiB.
PATTERN_MEMORY = 1 << 18
COMPILED_KEPT = 256


class FilterKind(enum.StrEnum):
    WORD = "word"
    PATTERN = "pattern"


class RuleKind(enum.StrEnum):
    """Which layer refused a text; the refusal names it, never the text."""

    OPERATOR_SAFETY = "operator_safety"  # core.moderation.safety: no community can turn it off
    OPERATOR_LIST = "operator_list"  # the operator's blocklist file
    WORD = "word"  # a community word filter
    PATTERN = "pattern"  # a community pattern filter


@dataclass(frozen=True, slots=True)
class PromptFilter:
    kind: FilterKind
    value: str  # as the admin typed it
    key: str  # what identifies it: the word's normalized phrase, the pattern itself
    created_at: float = 0.0  # who added it is in the moderation log (filter_added), not kept with the filter


def word_filter(value: str, *, created_at: float = 0.0) -> PromptFilter:
    value = " ".join(value.split())
    if len(value) > MAX_WORD:
        raise FilterRefused(problem="too_long", kind=FilterKind.WORD, limit=MAX_WORD)
    key = " ".join(w.forms[0] for w in normalize(value).words)
    if not key:
        raise FilterRefused(problem="empty", kind=FilterKind.WORD)
    return PromptFilter(FilterKind.WORD, value, key, created_at)


def pattern_filter(value: str, *, created_at: float = 0.0) -> PromptFilter:
    value = value.strip()
    if not value:
        raise FilterRefused(problem="empty", kind=FilterKind.PATTERN)
    if len(value) > MAX_PATTERN:
        raise FilterRefused(problem="too_long", kind=FilterKind.PATTERN, limit=MAX_PATTERN)
    compiled(value)
    return PromptFilter(FilterKind.PATTERN, value, value, created_at)


def make_filter(kind: FilterKind, value: str, *, created_at: float = 0.0) -> PromptFilter:
    make = pattern_filter if kind == FilterKind.PATTERN else word_filter
    return make(value, created_at=created_at)


@functools.lru_cache(maxsize=COMPILED_KEPT)
def compiled(pattern: str) -> re2._Regexp:
    """RE2's compiled pattern (cached: communities keep few, and every prompt runs them)."""
    options = re2.Options()
    options.case_sensitive = False
    options.max_mem = PATTERN_MEMORY
    options.log_errors = False  # the admin hears the reason; the operator's log needs no copy
    try:
        return re2.compile(pattern, options)
    except re2.error as exc:
        reason = exc.args[0].decode(errors="replace") if exc.args and isinstance(exc.args[0], bytes) else str(exc)
        raise FilterRefused(problem="bad_pattern", kind=FilterKind.PATTERN, detail=reason) from None


def phrase(f: PromptFilter) -> tuple[str, ...]:
    return tuple(f.key.split())


def hits(text: Text, f: PromptFilter) -> bool:
    if f.kind == FilterKind.WORD:
        return text.has(phrase(f))
    pattern = compiled(f.value)
    return pattern.search(text.plain) is not None or pattern.search(text.decoded) is not None


def first_hit(text: Text, filters: Iterable[PromptFilter]) -> PromptFilter | None:
    return next((f for f in filters if hits(text, f)), None)


def parse_blocklist(lines: Iterable[str]) -> tuple[PromptFilter, ...]:
    """The operator's blocklist file: one word or phrase a line, `re:` before a pattern, `#` starts a comment."""
    found: list[PromptFilter] = []
    for raw in lines:
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        found.append(pattern_filter(line[3:]) if line.startswith("re:") else word_filter(line))
    return tuple(found)
