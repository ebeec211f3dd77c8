"""Group admins from getChatAdministrators, cached per chat so a busy group costs one call per TTL."""

from __future__ import annotations

import asyncio
import logging

from telegram import Bot
from telegram.error import TelegramError

from core.clock import Clock

log = logging.getLogger(__name__)

ADMIN_TTL = 300.0  # seconds a chat's admin list is trusted
MAX_CHATS = 5000  # cached chats kept; the cache is cleared beyond this (cheap to refill)


class AdminCache:
    def __init__(self, bot: Bot, clock: Clock, *, ttl: float = ADMIN_TTL) -> None:
        self._bot = bot
        self._clock = clock
        self._ttl = ttl
        self._cache: dict[int, tuple[float, frozenset[int]]] = {}
        self._locks: dict[int, asyncio.Lock] = {}

    async def is_admin(self, chat_id: int, user_id: int) -> bool:
        # One lookup per chat at a time: twenty commands arriving together cost one call, not twenty.
        async with self._locks.setdefault(chat_id, asyncio.Lock()):
            entry = self._cache.get(chat_id)
            if entry is None or entry[0] < self._clock.now():
                try:
                    members = await self._bot.get_chat_administrators(chat_id)
                except TelegramError as exc:
                    log.warning("could not read the admins of chat %s: %s", chat_id, exc)
                    return False  # fail closed: no admin powers when Telegram does not confirm them
                if len(self._cache) >= MAX_CHATS:
                    self._cache.clear()
                    self._locks = {chat_id: self._locks[chat_id]}
                entry = (self._clock.now() + self._ttl, frozenset(m.user.id for m in members))
                self._cache[chat_id] = entry
        return user_id in entry[1]
