"""The prompt rules' user errors, worded like every other through core.errors.word (they are `Worded`).

Kept beside the rules because core/errors.py is at its size limit. A refusal names the kind of rule that
refused and what was refused (a prompt, a name), never the refused text itself: it is shown in the chat, and
repeating it there would post exactly what the rule is for.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.errors import Worded
from core.phrasing import Phrasing

_BY = {
    "operator_safety": "the operator's safety rules (they apply in every community and can't be turned off)",
    "operator_list": "the operator's blocklist",
    "word": "a community word filter",
    "pattern": "a community pattern filter",
}
_WHAT = {"prompt": "This prompt", "character": "This character's name or description",
         "reroll": "This job's prompt"}


@dataclass(eq=False)
class PromptBlocked(Worded):
    """A prompt, a character's name or description was refused by a rule; nothing was charged or saved."""

    rule: str  # a core.moderation.rules.RuleKind value
    field: str = "prompt"  # prompt | character (its name or description) | reroll

    def words(self, ph: Phrasing) -> str:
        what = _WHAT.get(self.field, "This text")
        return (f"{what} was refused by {_BY.get(self.rule, 'a moderation rule')}. Nothing was charged or saved; "
                "please rephrase.")


@dataclass(eq=False)
class FilterRefused(Worded):
    """An admin's filter can't be added: empty, too long, too many, or a pattern RE2 can't compile."""

    problem: str  # empty | too_long | too_many | bad_pattern
    kind: str  # word | pattern
    limit: int = 0
    detail: str = ""  # RE2's reason for a bad pattern

    def words(self, ph: Phrasing) -> str:
        if self.problem == "too_long":
            return f"A {self.kind} filter can be up to {self.limit} characters long."
        if self.problem == "too_many":
            return f"This community already has {self.limit} {self.kind} filters; remove one first."
        if self.problem == "bad_pattern":
            reason = self.detail if len(self.detail) <= 120 else self.detail[:119] + "…"
            return (f"That pattern can't be used: {reason}. Patterns are RE2 regular expressions "
                    "(no backreferences or lookarounds).")
        return f"Say which {self.kind} to filter: it has no letters or digits."
