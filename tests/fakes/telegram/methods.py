"""The Bot API methods the fake answers, named after the API, each enforcing the documented rules.

Messages are kept as Telegram keeps them: the visible text with its entities (HTML parsed away), so an
edit is "not modified" exactly when Telegram would say so — same visible text, entities and markup.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.fakes.telegram import rules
from tests.fakes.telegram.wire import (
    ApiError,
    as_int,
    attached,
    bot_user,
    chat,
    message_fields,
    require_chat,
    user,
)

MAX_POLL_SECONDS = 5.0  # a long poll never holds a test longer than this, whatever the bot asks
CONFLICT = "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"


@dataclass
class _Poll:
    """A getUpdates long poll the fake is holding open."""

    request: web.Request
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    conflict: bool = False


def _entities(parsed: rules.Parsed) -> list[dict[str, Any]]:
    out = []
    for kind, offset, length, attr in parsed.entities:
        entity: dict[str, Any] = {"type": kind, "offset": offset, "length": length}
        if kind == "text_link":
            entity["url"] = attr
        out.append(entity)
    return out


def _client_gone(request: web.Request) -> bool:
    transport = request.transport
    return transport is None or transport.is_closing()


class BotApiMethods:
    """Method handlers over the fake's state; FakeTelegramServer owns the state and the HTTP side."""

    messages: dict[tuple[int, int], dict[str, Any]]
    left: set[int]
    admins: dict[int, list[int]]
    unopened: set[int]  # users whose private chat with the bot was never opened (a test sets them)
    _updates: list[dict[str, Any]]
    _files: dict[str, tuple[str, bytes]]
    _file_ids: itertools.count[int]
    _message_ids: dict[int, itertools.count[int]]
    _poll: _Poll | None

    def add_file(self, data: bytes, *, name: str = "photo.jpg") -> str:
        """Store a file the bot may fetch with getFile; returns its file_id."""
        file_id = f"file-{next(self._file_ids)}"
        self._files[file_id] = (f"photos/{file_id}-{name}", data)
        return file_id

    def _next_message_id(self, chat_id: int) -> int:
        return next(self._message_ids.setdefault(chat_id, itertools.count(1)))

    def _bot_message(self, chat_id: int, **fields: Any) -> dict[str, Any]:
        if chat_id in self.unopened:  # a user who never started the bot: Telegram lets no bot write first
            raise ApiError(403, "Forbidden: bot can't initiate conversation with a user")
        msg = {"message_id": self._next_message_id(chat_id), "date": int(time.time()),
               "chat": chat(chat_id), "from": bot_user(), **fields}
        self.messages[(chat_id, msg["message_id"])] = msg
        return msg

    def _existing(self, params: dict[str, Any], action: str = "edit") -> dict[str, Any]:
        key = (require_chat(params), as_int(params.get("message_id")) or 0)
        if key not in self.messages:
            raise ApiError(400, f"Bad Request: message to {action} not found")
        return self.messages[key]

    # --- updates ---------------------------------------------------------------------------------

    async def _m_getUpdates(self, params: dict[str, Any], request: web.Request) -> list[dict[str, Any]]:
        previous = self._poll
        if previous is not None:
            # Telegram ends the older of two concurrent polls with 409; one whose client is gone (a
            # killed process) ends unseen, which is no conflict anybody could notice.
            previous.conflict = not _client_gone(previous.request)
            previous.wake.set()
        poll = self._poll = _Poll(request)
        offset = as_int(params.get("offset")) or 0
        timeout = min(float(params.get("timeout") or 0), MAX_POLL_SECONDS)
        self._updates = [u for u in self._updates if u["update_id"] >= offset]
        try:
            if not self._updates and timeout > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(poll.wake.wait(), timeout)
        finally:
            if self._poll is poll:
                self._poll = None
        if poll.conflict:
            raise ApiError(409, CONFLICT)
        return [u for u in self._updates if u["update_id"] >= offset][:100]

    # --- bot setup -------------------------------------------------------------------------------

    def _m_getMe(self, *_: Any) -> dict[str, Any]:
        return bot_user() | {"can_join_groups": True, "can_read_all_group_messages": False,
                             "supports_inline_queries": False}

    def _m_deleteWebhook(self, *_: Any) -> bool:
        return True

    def _m_setMyCommands(self, params: dict[str, Any], _files: dict) -> bool:
        rules.check_commands(params.get("commands"))
        return True

    def _m_answerCallbackQuery(self, *_: Any) -> bool:
        return True

    def _m_leaveChat(self, params: dict[str, Any], _files: dict) -> bool:
        chat_id = require_chat(params)
        if chat_id > 0:
            raise ApiError(400, "Bad Request: chat member status can't be changed in private chats")
        if chat_id in self.left:
            raise ApiError(403, "Forbidden: bot is not a member of the supergroup chat")
        self.left.add(chat_id)
        return True

    def _m_getChatAdministrators(self, params: dict[str, Any], _files: dict) -> list[dict[str, Any]]:
        chat_id = require_chat(params)
        return [{"status": "administrator", "user": user(uid), "can_be_edited": False,
                 "is_anonymous": False, "can_manage_chat": True, "can_delete_messages": True,
                 "can_manage_video_chats": True, "can_restrict_members": True, "can_promote_members": False,
                 "can_change_info": True, "can_invite_users": True, "can_post_stories": False,
                 "can_edit_stories": False, "can_delete_stories": False}
                for uid in self.admins.get(chat_id, [])]

    def _m_getFile(self, params: dict[str, Any], _files: dict) -> dict[str, Any]:
        file_id = str(params.get("file_id"))
        if file_id not in self._files:
            raise ApiError(400, "Bad Request: invalid file_id")
        path, data = self._files[file_id]
        return {"file_id": file_id, "file_unique_id": "u" + file_id, "file_size": len(data), "file_path": path}

    # --- messages --------------------------------------------------------------------------------

    def _m_sendMessage(self, params: dict[str, Any], _files: dict) -> dict[str, Any]:
        chat_id = require_chat(params)
        if chat_id in self.left:
            raise ApiError(403, "Forbidden: bot is not a member of the supergroup chat")
        parsed = rules.formatted(params, "text")
        rules.check_text(parsed)
        rules.check_markup(params.get("reply_markup"))
        return self._bot_message(chat_id, text=parsed.text, entities=_entities(parsed), **message_fields(params))

    def _m_editMessageText(self, params: dict[str, Any], _files: dict) -> dict[str, Any]:
        msg = self._existing(params)
        parsed = rules.formatted(params, "text")
        rules.check_text(parsed)
        markup = params.get("reply_markup") or None
        rules.check_markup(markup)
        entities = _entities(parsed)
        if (msg.get("text"), msg.get("entities", []), msg.get("reply_markup")) == (parsed.text, entities, markup):
            raise ApiError(400, rules.NOT_MODIFIED)
        msg.update(text=parsed.text, entities=entities, edit_date=int(time.time()))
        msg.pop("reply_markup", None)
        if markup:
            msg["reply_markup"] = markup
        return msg

    def _m_editMessageReplyMarkup(self, params: dict[str, Any], _files: dict) -> dict[str, Any]:
        msg = self._existing(params)
        markup = params.get("reply_markup") or None
        rules.check_markup(markup)
        if msg.get("reply_markup") == markup:
            raise ApiError(400, rules.NOT_MODIFIED)
        msg.pop("reply_markup", None)
        if markup:
            msg["reply_markup"] = markup
        return msg

    def _m_deleteMessage(self, params: dict[str, Any], _files: dict) -> bool:
        msg = self._existing(params, "delete")
        del self.messages[(msg["chat"]["id"], msg["message_id"])]
        return True

    def _m_sendPhoto(self, params: dict[str, Any], files: dict[str, bytes]) -> dict[str, Any]:
        return self._send_media(params, files, "photo")

    def _m_sendDocument(self, params: dict[str, Any], files: dict[str, bytes]) -> dict[str, Any]:
        return self._send_media(params, files, "document")

    def _m_sendMediaGroup(self, params: dict[str, Any], files: dict[str, bytes]) -> list[dict[str, Any]]:
        chat_id = require_chat(params)
        media = rules.check_album(params.get("media"))
        captions = []
        photos = []
        for item in media:  # every item is checked before any is sent: Telegram sends all or nothing
            caption = rules.formatted(item, "caption")
            rules.check_caption(caption)
            captions.append(caption)
            data = attached(str(item.get("media", "")), files)
            photos.append((data, rules.photo_size(data) if item.get("type", "photo") == "photo" else (0, 0)))
        group = f"sent-{next(self._file_ids)}"
        sent = []
        for item, caption, (data, (width, height)) in zip(media, captions, photos, strict=True):
            file_id = self.add_file(data)
            spoiler = {"has_media_spoiler": True} if _truthy(item.get("has_spoiler")) else {}
            sent.append(self._bot_message(chat_id, media_group_id=group, caption=caption.text,
                                          caption_entities=_entities(caption), **spoiler,
                                          photo=[{"file_id": file_id, "file_unique_id": "u" + file_id,
                                                  "width": width, "height": height, "file_size": len(data)}]))
        return sent

    def _send_media(self, params: dict[str, Any], files: dict[str, bytes], kind: str) -> dict[str, Any]:
        chat_id = require_chat(params)
        data = files.get(kind) or attached(str(params.get(kind, "")), files)
        caption = rules.formatted(params, "caption")
        rules.check_caption(caption)
        rules.check_markup(params.get("reply_markup"))
        file_id = self.add_file(data)
        info: Any = {"file_id": file_id, "file_unique_id": "u" + file_id, "file_size": len(data)}
        if kind == "photo":
            width, height = rules.photo_size(data)
            info = [info | {"width": width, "height": height}]
        # Telegram marks a photo sent with has_spoiler (the cover) on the message it returns
        spoiler = {"has_media_spoiler": True} if kind == "photo" and _truthy(params.get("has_spoiler")) else {}
        return self._bot_message(chat_id, caption=caption.text, caption_entities=_entities(caption),
                                 **{kind: info}, **spoiler, **message_fields(params))


def _truthy(value: Any) -> bool:
    """A Bot API boolean as it arrives in form data or JSON."""
    return value is True or str(value).lower() == "true"
