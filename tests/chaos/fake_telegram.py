"""The fake Bot API with the chaos run's extra faults and checks.

On top of tests.fakes.telegram_server: failed `getUpdates` calls on demand (a dropped long poll), and
Telegram's own HTML parse check on every text and caption the bot sends — a message Telegram would
refuse ("can't parse entities") is refused here too, and recorded, so broken markup cannot hide.
"""

from __future__ import annotations

import re
import time
from typing import Any

from tests.fakes.telegram_server import FakeTelegramServer, _ApiError

_TAGS = "b|strong|i|em|u|ins|s|strike|del|code|pre|a|blockquote|tg-spoiler|span|tg-emoji"
_TAG_RE = re.compile(rf"<(/?)({_TAGS})(?:\s[^<>]*)?>")
_ENTITY_RE = re.compile(r"&(?:lt|gt|amp|quot|#\d+|#x[0-9a-fA-F]+);")
MAX_TEXT = 4096


def html_problem(text: str) -> str | None:
    """Why Telegram would refuse `text` in HTML parse mode, or None when it parses."""
    stack: list[str] = []
    i = 0
    for _ in range(len(text) + 1):  # bounded: every step consumes at least one character
        if i >= len(text):
            break
        ch = text[i]
        if ch == "<":
            match = _TAG_RE.match(text, i)
            if match is None:
                return f"unsupported start tag at byte offset {i}"
            closing, tag = match.group(1), match.group(2)
            if closing:
                if not stack or stack.pop() != tag:
                    return f"unmatched end tag </{tag}>"
            else:
                stack.append(tag)
            i = match.end()
        elif ch == "&":
            match = _ENTITY_RE.match(text, i)
            if match is None:
                return f"unsupported entity at byte offset {i}"
            i = match.end()
        else:
            i += 1
    if stack:
        return f"unclosed tag <{stack[-1]}>"
    return None


def _visible_length(text: str) -> int:
    plain = _TAG_RE.sub("", text)
    return len(_ENTITY_RE.sub("x", plain))


class ChaosTelegramServer(FakeTelegramServer):
    """Adds `fail_updates` (the next N long polls fail with 502) and the HTML check."""

    def __post_init__(self) -> None:
        super().__post_init__()
        self.fail_updates = 0
        self.failed_updates = 0
        self.html_errors: list[str] = []
        self.offered: dict[tuple[int, int], float] = {}  # (chat, message id) -> when the fake offered it
        self.sent_at: dict[tuple[int, int], float] = {}  # (chat, message id) -> when the bot sent it

    def offer_text(self, chat_id: int, user_id: int, text: str) -> dict[str, Any]:
        msg = self.send_text(chat_id, user_id, text)
        self.offered[(chat_id, msg["message_id"])] = time.monotonic()
        return msg

    def offer_photo(self, chat_id: int, user_id: int, data: bytes, caption: str) -> dict[str, Any]:
        msg = self.send_photo(chat_id, user_id, data, caption)
        self.offered[(chat_id, msg["message_id"])] = time.monotonic()
        return msg

    def _bot_message(self, chat_id: int, **fields: Any) -> dict[str, Any]:
        msg = super()._bot_message(chat_id, **fields)
        self.sent_at[(chat_id, msg["message_id"])] = time.monotonic()
        return msg

    async def _m_getUpdates(self, params: dict[str, Any], files: dict) -> list[dict[str, Any]]:
        if self.fail_updates > 0:
            self.fail_updates -= 1
            self.failed_updates += 1
            raise _ApiError(502, "Bad Gateway")
        return await super()._m_getUpdates(params, files)

    def _check_html(self, params: dict[str, Any], key: str) -> None:
        text = params.get(key)
        if not text or params.get("parse_mode") != "HTML":
            return
        problem = html_problem(str(text))
        if problem is None and key == "text" and _visible_length(str(text)) > MAX_TEXT:
            problem = "message is too long"
        if problem:
            self.html_errors.append(f"{problem}: {str(text)[:120]!r}")
            raise _ApiError(400, f"Bad Request: can't parse entities: {problem}")

    def _m_sendMessage(self, params: dict[str, Any], files: dict) -> dict[str, Any]:
        self._check_html(params, "text")
        return super()._m_sendMessage(params, files)

    def _m_editMessageText(self, params: dict[str, Any], files: dict) -> dict[str, Any]:
        self._check_html(params, "text")
        return super()._m_editMessageText(params, files)

    def _send_media(self, params: dict[str, Any], files: dict[str, bytes], kind: str) -> dict[str, Any]:
        self._check_html(params, "caption")
        return super()._send_media(params, files, kind)
