"""Inline buttons: what each one does, and the short `callback_data` token that carries it.

Telegram caps callback_data at 64 bytes, so a button carries `<action>:<id>`; an id too long for that
is swapped for a short token kept in memory (the id itself never needs to fit).
"""

from __future__ import annotations

import enum
import itertools
from collections import OrderedDict

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from core.types import JobView

MAX_CALLBACK_BYTES = 64
MAX_TOKENS = 10_000  # in-memory long-id tokens kept; the oldest are forgotten first


class Action(enum.StrEnum):
    CANCEL = "cx"  # cancel a queued or running job
    REROLL = "rr"  # same request, new seed
    SAME_SEED = "ss"  # same request, same seed
    SAVE = "sv"  # save an output as a character
    DELETE = "dl"  # delete the result message
    DOCUMENT = "doc"  # send the originals as files
    CONSENT = "ok"  # confirm "I may use this face" for a pending character save
    REPORT = "rp"  # flag a result to the community's admins


class ButtonCodec:
    """Encodes (action, id) into callback_data of at most 64 bytes and back."""

    def __init__(self) -> None:
        self._tokens: OrderedDict[str, str] = OrderedDict()
        self._counter = itertools.count(1)

    def encode(self, action: Action, ident: str) -> str:
        data = f"{action}:{ident}"
        if len(data.encode()) <= MAX_CALLBACK_BYTES:
            return data
        token = f"~{next(self._counter)}"
        self._tokens[token] = ident
        while len(self._tokens) > MAX_TOKENS:
            self._tokens.popitem(last=False)
        return f"{action}:{token}"

    def decode(self, data: str | None) -> tuple[Action, str] | None:
        """None for data castbot did not make (or a token it has forgotten)."""
        action, sep, ident = (data or "").partition(":")
        if not sep or action not in Action._value2member_map_:
            return None
        if ident.startswith("~"):
            resolved = self._tokens.get(ident)
            return (Action(action), resolved) if resolved else None
        return Action(action), ident

    def status_markup(self, view: JobView) -> InlineKeyboardMarkup | None:
        """A Cancel button while the job can still be cancelled."""
        if not view.state.is_cancellable:
            return None
        return InlineKeyboardMarkup([[self._button("✖ Cancel", Action.CANCEL, view.job_id)]])

    def result_markup(self, job_id: str) -> InlineKeyboardMarkup:
        return InlineKeyboardMarkup([
            [self._button("🎲 Re-roll", Action.REROLL, job_id),
             self._button("🔁 Same seed", Action.SAME_SEED, job_id),
             self._button("🚩 Report", Action.REPORT, job_id)],
            [self._button("💾 Save as character", Action.SAVE, job_id),
             self._button("📄 Originals", Action.DOCUMENT, job_id),
             self._button("🗑 Delete", Action.DELETE, job_id)],
        ])

    def consent_markup(self, token: str) -> InlineKeyboardMarkup:
        return InlineKeyboardMarkup([[self._button("✅ I may use this face", Action.CONSENT, token)]])

    def _button(self, label: str, action: Action, ident: str) -> InlineKeyboardButton:
        return InlineKeyboardButton(label, callback_data=self.encode(action, ident))
