"""The fake Telegram Bot API: server.py serves it, methods.py answers, rules.py and flood.py refuse."""

from tests.fakes.telegram.server import FakeTelegramServer
from tests.fakes.telegram.wire import BOT_ID, BOT_USERNAME, Call, Refusal

__all__ = ["BOT_ID", "BOT_USERNAME", "Call", "FakeTelegramServer", "Refusal"]
