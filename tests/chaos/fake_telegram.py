"""The fake Bot API with the chaos run's extra faults and bookkeeping.

On top of tests.fakes.telegram (which already refuses what Telegram refuses, and records it): failed
`getUpdates` calls on demand (a dropped long poll), and when each command was offered and each bot
message sent, for the latency figures.
"""

from __future__ import annotations

import time
from typing import Any

from aiohttp import web

from tests.fakes.telegram import FakeTelegramServer
from tests.fakes.telegram.wire import ApiError


class ChaosTelegramServer(FakeTelegramServer):
    """Adds `fail_updates`: the next N long polls fail with 502."""

    def __post_init__(self) -> None:
        super().__post_init__()
        self.fail_updates = 0
        self.failed_updates = 0
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

    async def _m_getUpdates(self, params: dict[str, Any], request: web.Request) -> list[dict[str, Any]]:
        if self.fail_updates > 0:
            self.fail_updates -= 1
            self.failed_updates += 1
            raise ApiError(502, "Bad Gateway", recorded=False)  # a fault the run injects, not a refusal
        return await super()._m_getUpdates(params, request)
