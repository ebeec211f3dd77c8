"""Telegram's flood limits on the fake's clock (Bots FAQ, "My bot is hitting limits, how do I avoid this?").

- one private chat: "avoid sending more than one message per second" — two messages closer than a second
  (less a little clock slack) are refused;
- one group: "not able to send more than 20 messages per minute" — a sliding 60-second window;
- overall: "not more than about 30 messages per second" — a bucket of 30 refilled at 30/s, since the
  FAQ's "about" allows the short bunching a real event loop produces.
The API says none of this exactly (PTB's wiki: "Telegram does not document the precise limits"); these
are the documented numbers, applied to sends and edits that succeeded, answered with 429 and the seconds
until the window frees (`parameters.retry_after`).
"""

from __future__ import annotations

import math
from collections import deque

PRIVATE_GAP = 1.0
GAP_SLACK = 0.05  # clock and scheduling slack a real server would never notice
GROUP_WINDOW, GROUP_MAX = 60.0, 20
GLOBAL_RATE = 30.0
MESSAGE_METHODS = frozenset({"sendMessage", "sendPhoto", "sendDocument", "sendMediaGroup", "editMessageText",
                             "editMessageReplyMarkup", "editMessageCaption", "copyMessage", "forwardMessage"})


class FloodLimits:
    def __init__(self) -> None:
        self._sent: dict[int, deque[float]] = {}
        self._tokens = GLOBAL_RATE
        self._filled_at: float | None = None

    def retry_after(self, chat_id: int, now: float) -> int | None:
        """Seconds to wait if one more message to `chat_id` now would break a limit, else None."""
        self._refill(now)
        if self._tokens < 1:
            return max(1, math.ceil((1 - self._tokens) / GLOBAL_RATE))
        sent = self._sent.get(chat_id)
        if not sent:
            return None
        if chat_id > 0:
            wait = sent[-1] + PRIVATE_GAP - GAP_SLACK - now
        else:
            while sent and sent[0] <= now - GROUP_WINDOW:
                sent.popleft()
            wait = sent[0] + GROUP_WINDOW - now if len(sent) >= GROUP_MAX else 0.0
        return max(1, math.ceil(wait)) if wait > 0 else None

    def sent(self, chat_id: int, now: float) -> None:
        self._refill(now)
        self._tokens -= 1
        window = self._sent.setdefault(chat_id, deque())
        window.append(now)
        if chat_id > 0:
            while len(window) > 1:
                window.popleft()

    def _refill(self, now: float) -> None:
        if self._filled_at is not None:
            self._tokens = min(GLOBAL_RATE, self._tokens + (now - self._filled_at) * GLOBAL_RATE)
        self._filled_at = now
