"""Naming a user on Telegram: a reply to their message, their numeric id, or an @username seen in the chat.

The Bot API cannot look a username up, so castbot remembers (in core's store) who posted under which
@username in each chat. A name nobody was seen using stays unresolved, and core refuses it: a ban never
lands on a guess.
"""

from __future__ import annotations

import dataclasses
from collections import OrderedDict
from typing import TYPE_CHECKING

from telegram import Message

from adapters.telegram.parsing import place_of
from core.commands import types as c
from core.types import Place

if TYPE_CHECKING:
    from core.service import CastService

MAX_REMEMBERED = 20_000  # (chat, username) pairs known to be stored already; beyond this the oldest are re-stored


class SeenUsers:
    def __init__(self, service: CastService) -> None:
        self._service = service
        self._stored: OrderedDict[tuple[int, str], str] = OrderedDict()

    async def saw(self, message: Message) -> None:
        """Record the author of a message; a repeat costs no write."""
        user = message.from_user
        if user is None or user.is_bot or not user.username:
            return
        key, user_id = (message.chat.id, user.username.lower()), str(user.id)
        if self._stored.get(key) == user_id:
            self._stored.move_to_end(key)
            return
        await self._service.saw_user(place_of(message, user), user.username, user_id)
        self._stored[key] = user_id
        while len(self._stored) > MAX_REMEMBERED:
            self._stored.popitem(last=False)

    async def resolve(self, command: c.Command, place: Place) -> c.Command:
        """The command with an @username it names replaced by that user's id, when castbot has seen them here."""
        user = getattr(command, "user", None)
        if not isinstance(user, c.UserRef) or user.resolved or not user.text.startswith("@"):
            return command
        user_id = await self._service.seen_user(place, user.text)
        if user_id is None:
            return command
        return dataclasses.replace(command, user=c.UserRef(user_id=user_id, text=user.text))


def name_replied_user(args: str, replied: Message | None) -> str:
    """`/admin ban`, `/admin unban` or `/admin quota --user` sent as a reply names the replied-to author."""
    if replied is None or replied.from_user is None:
        return args
    words = args.lower().split()
    if words in (["ban"], ["unban"]) or (words[:1] == ["quota"] and words[-1] == "--user"):
        return f"{args} {replied.from_user.id}"
    return args
