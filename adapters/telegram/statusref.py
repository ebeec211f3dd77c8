"""The reference a Telegram job keeps to its status message, stored by core as an opaque string.

Besides where the message is, it carries a digest of what the message shows, so a bot restarted from
the store knows an edit to the same text and buttons would be refused ("message is not modified").
Kept in the reference rather than a table of its own: it is the adapter's knowledge of its own
message, it is already written whenever the message changes, and core never needs to read it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from telegram import InlineKeyboardMarkup

from core.statustext import content_digest


@dataclass(frozen=True, slots=True)
class StatusRef:
    """The persisted reply reference: the chat, the status message, the user's command message."""

    chat_id: int
    message_id: int | None  # None until the status message is posted (the job is persisted first)
    reply_to: int | None = None
    shown: str | None = None  # digest of the text and buttons the status message shows now

    def encode(self) -> str:
        data = {"c": self.chat_id, "m": self.message_id, "r": self.reply_to}
        if self.shown is not None:
            data["s"] = self.shown
        return json.dumps(data, separators=(",", ":"))

    @classmethod
    def decode(cls, raw: str) -> StatusRef:
        data = json.loads(raw)
        message = data.get("m")
        return cls(int(data["c"]), None if message is None else int(message), data.get("r"), data.get("s"))


def shown_digest(text: str, markup: InlineKeyboardMarkup | None) -> str:
    """What Telegram compares for "message is not modified": the text and the buttons."""
    return content_digest(text, markup.to_dict() if markup else None)
