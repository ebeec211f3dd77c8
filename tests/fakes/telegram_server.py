"""A fake Telegram Bot API server on 127.0.0.1 for driving the real PTB application in tests.

It speaks the wire protocol PTB 22 uses: POST `/bot<token>/<method>` with form-encoded (or multipart,
when files are attached) parameters whose complex values are JSON strings; answers
`{"ok": true, "result": ...}` or `{"ok": false, "error_code": ..., "description": ...}`. Files are served
under `/file/bot<token>/<path>`. Tests enqueue updates (`send_text`, `send_photo`, `press`, ...) that a
long-polled `getUpdates` hands out, and assert on `calls`, the record of every request the bot made.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from aiohttp import web

BOT_ID = 999_000
BOT_USERNAME = "castbot"
MAX_POLL_SECONDS = 5.0  # a long poll never holds a test longer than this, whatever the bot asks


@dataclass
class Call:
    """One request the bot made."""

    method: str
    chat_id: int | None
    params: dict[str, Any]
    files: dict[str, bytes]
    at: float  # time.monotonic() when it arrived
    status: int = 200


@dataclass
class _Flood:
    retry_after: int
    times: int
    methods: frozenset[str] | None


@dataclass
class FakeTelegramServer:
    token: str = "123456:TEST-token-never-logged"
    clock: Callable[[], float] = time.monotonic  # stamps calls; tests may pass a FakeClock's now
    calls: list[Call] = field(default_factory=list)
    admins: dict[int, list[int]] = field(default_factory=dict)  # chat id -> admin user ids
    messages: dict[tuple[int, int], dict[str, Any]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._updates: list[dict[str, Any]] = []
        self._update_ids = itertools.count(1)
        self._message_ids: dict[int, itertools.count[int]] = {}
        self._files: dict[str, tuple[str, bytes]] = {}
        self._file_ids = itertools.count(1)
        self._floods: dict[int, _Flood] = {}
        self._new_update = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self.port = 0

    # --- lifecycle -------------------------------------------------------------------------------

    @property
    def root(self) -> str:
        """What TELEGRAM_API_URL would be: the bot derives /bot<token>/ and /file/bot<token>/ from it."""
        return f"http://127.0.0.1:{self.port}"

    async def __aenter__(self) -> FakeTelegramServer:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_post("/bot{token}/{method}", self._handle_method)
        app.router.add_get("/bot{token}/{method}", self._handle_method)
        app.router.add_get("/file/bot{token}/{path:.+}", self._handle_file)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._new_update.set()
        if self._runner:
            await self._runner.cleanup()

    # --- what tests do ---------------------------------------------------------------------------

    def add_file(self, data: bytes, *, name: str = "photo.jpg") -> str:
        """Store a file the bot may fetch with getFile; returns its file_id."""
        file_id = f"file-{next(self._file_ids)}"
        self._files[file_id] = (f"photos/{file_id}-{name}", data)
        return file_id

    def flood(self, chat_id: int, retry_after: int, *, times: int = 1, methods: set[str] | None = None) -> None:
        """Answer the next `times` calls aimed at `chat_id` (optionally only these methods) with a 429."""
        self._floods[chat_id] = _Flood(retry_after, times, frozenset(methods) if methods else None)

    def send_text(self, chat_id: int, user_id: int, text: str, **extra: Any) -> dict[str, Any]:
        """A user types `text` (a leading /command gets its bot_command entity, as Telegram does)."""
        msg = self._user_message(chat_id, user_id, text=text, entities=_command_entities(text), **extra)
        self._push({"message": msg})
        return msg

    def send_photo(self, chat_id: int, user_id: int, data: bytes, caption: str = "", **extra: Any) -> dict[str, Any]:
        file_id = self.add_file(data)
        sizes = [{"file_id": file_id, "file_unique_id": "u" + file_id, "width": 512, "height": 512,
                  "file_size": len(data)}]
        fields: dict[str, Any] = {"photo": sizes}
        if caption:
            fields |= {"caption": caption, "caption_entities": _command_entities(caption)}
        msg = self._user_message(chat_id, user_id, **fields, **extra)
        self._push({"message": msg})
        return msg

    def send_document(self, chat_id: int, user_id: int, data: bytes, *, mime: str, name: str = "file.bin",
                      caption: str = "", size: int | None = None, **extra: Any) -> dict[str, Any]:
        file_id = self.add_file(data, name=name)
        doc = {"file_id": file_id, "file_unique_id": "u" + file_id, "file_name": name, "mime_type": mime,
               "file_size": len(data) if size is None else size}
        fields: dict[str, Any] = {"document": doc}
        if caption:
            fields |= {"caption": caption, "caption_entities": _command_entities(caption)}
        msg = self._user_message(chat_id, user_id, **fields, **extra)
        self._push({"message": msg})
        return msg

    def send_album(self, chat_id: int, user_id: int, images: list[bytes], caption: str = "") -> list[dict]:
        """An album: one update per photo, sharing a media_group_id; the caption rides on the first."""
        group = f"album-{next(self._file_ids)}"
        return [self.send_photo(chat_id, user_id, data, caption if i == 0 else "", media_group_id=group)
                for i, data in enumerate(images)]

    def edit_text(self, message: dict[str, Any], text: str) -> None:
        """The user edits a message they sent earlier."""
        edited = dict(message, text=text, entities=_command_entities(text), edit_date=int(time.time()))
        self._push({"edited_message": edited})

    def press(self, user_id: int, message: dict[str, Any], data: str) -> str:
        """A user presses an inline button carrying `data` under a message the bot sent."""
        query_id = f"cbq-{next(self._update_ids)}"
        self._push({"callback_query": {"id": query_id, "from": _user(user_id), "chat_instance": "ci",
                                       "data": data, "message": message}})
        return query_id

    def bot_messages(self, chat_id: int) -> list[dict[str, Any]]:
        """The bot's messages in a chat as they stand now (edits applied), oldest first."""
        return [m for (c, _), m in sorted(self.messages.items()) if c == chat_id and m["from"]["is_bot"]]

    def transcript(self, chat_id: int, *, start: float | None = None) -> str:
        """The bot's calls to one chat as readable lines: time, method, status, the gist of the parameters."""
        calls = [c for c in self.calls if c.chat_id == chat_id]
        origin = start if start is not None else (calls[0].at if calls else 0.0)
        return "\n".join(f"+{c.at - origin:7.1f}s {c.method:<16} {c.status} {_gist(c)}" for c in calls)

    def calls_to(self, method: str, chat_id: int | None = None) -> list[Call]:
        return [c for c in self.calls if c.method == method and (chat_id is None or c.chat_id == chat_id)]

    # --- plumbing --------------------------------------------------------------------------------

    def _push(self, update: dict[str, Any]) -> None:
        update["update_id"] = next(self._update_ids)
        self._updates.append(update)
        self._new_update.set()

    def _next_message_id(self, chat_id: int) -> int:
        return next(self._message_ids.setdefault(chat_id, itertools.count(1)))

    def _user_message(self, chat_id: int, user_id: int, **fields: Any) -> dict[str, Any]:
        msg = {"message_id": self._next_message_id(chat_id), "date": int(time.time()),
               "chat": _chat(chat_id), "from": _user(user_id), **fields}
        self.messages[(chat_id, msg["message_id"])] = msg
        return msg

    def _bot_message(self, chat_id: int, **fields: Any) -> dict[str, Any]:
        msg = {"message_id": self._next_message_id(chat_id), "date": int(time.time()),
               "chat": _chat(chat_id), "from": _bot_user(), **fields}
        self.messages[(chat_id, msg["message_id"])] = msg
        return msg

    async def _read_params(self, request: web.Request) -> tuple[dict[str, Any], dict[str, bytes]]:
        if request.content_type == "application/json":
            return dict(await request.json()), {}
        params: dict[str, Any] = {}
        files: dict[str, bytes] = {}
        for key, value in (await request.post()).items():
            if isinstance(value, web.FileField):
                files[key] = value.file.read()
            else:
                params[key] = _decode(str(value))
        return params, files

    async def _handle_method(self, request: web.Request) -> web.Response:
        if unquote(request.match_info["token"]) != self.token:
            return _error(401, "Unauthorized")
        method = request.match_info["method"]
        params, files = await self._read_params(request)
        chat_id = _as_int(params.get("chat_id"))
        call = Call(method, chat_id, params, files, self.clock())
        self.calls.append(call)
        flood = self._floods.get(chat_id) if chat_id is not None else None
        if flood and flood.times > 0 and (flood.methods is None or method in flood.methods):
            flood.times -= 1
            call.status = 429
            return _error(429, f"Too Many Requests: retry after {flood.retry_after}",
                          retry_after=flood.retry_after)
        handler = getattr(self, "_m_" + method, None)
        if handler is None:
            return _error(404, f"Not Found: method {method} is not faked")
        try:
            result = await handler(params, files) if method == "getUpdates" else handler(params, files)
        except _ApiError as exc:
            call.status = exc.code
            return _error(exc.code, exc.description)
        return web.json_response({"ok": True, "result": result})

    async def _handle_file(self, request: web.Request) -> web.Response:
        if unquote(request.match_info["token"]) != self.token:
            return web.Response(status=401)
        path = unquote(request.match_info["path"])
        for file_path, data in self._files.values():
            if file_path == path:
                return web.Response(body=data, content_type="application/octet-stream")
        return web.Response(status=404)

    # --- methods (named after the Bot API) -------------------------------------------------------

    async def _m_getUpdates(self, params: dict[str, Any], _files: dict) -> list[dict[str, Any]]:
        offset = _as_int(params.get("offset")) or 0
        timeout = min(float(params.get("timeout") or 0), MAX_POLL_SECONDS)
        self._updates = [u for u in self._updates if u["update_id"] >= offset]
        if not self._updates and timeout > 0:
            self._new_update.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._new_update.wait(), timeout)
        return [u for u in self._updates if u["update_id"] >= offset][:100]

    def _m_getMe(self, *_: Any) -> dict[str, Any]:
        return _bot_user() | {"can_join_groups": True, "can_read_all_group_messages": False,
                              "supports_inline_queries": False}

    def _m_deleteWebhook(self, *_: Any) -> bool:
        return True

    def _m_setMyCommands(self, *_: Any) -> bool:
        return True

    def _m_answerCallbackQuery(self, *_: Any) -> bool:
        return True

    def _m_sendMessage(self, params: dict[str, Any], _files: dict) -> dict[str, Any]:
        chat_id = _require_chat(params)
        fields = _message_fields(params)
        return self._bot_message(chat_id, text=str(params["text"]), **fields)

    def _m_editMessageText(self, params: dict[str, Any], _files: dict) -> dict[str, Any]:
        msg = self._existing(params)
        text = str(params["text"])
        markup = params.get("reply_markup")
        if msg.get("text") == text and msg.get("reply_markup") == markup:
            raise _ApiError(400, "Bad Request: message is not modified")
        msg["text"] = text
        msg.pop("reply_markup", None)
        if markup:
            msg["reply_markup"] = markup
        return msg

    def _m_editMessageReplyMarkup(self, params: dict[str, Any], _files: dict) -> dict[str, Any]:
        msg = self._existing(params)
        msg.pop("reply_markup", None)
        if params.get("reply_markup"):
            msg["reply_markup"] = params["reply_markup"]
        return msg

    def _m_deleteMessage(self, params: dict[str, Any], _files: dict) -> bool:
        msg = self._existing(params)
        del self.messages[(msg["chat"]["id"], msg["message_id"])]
        return True

    def _m_sendPhoto(self, params: dict[str, Any], files: dict[str, bytes]) -> dict[str, Any]:
        return self._send_media(params, files, "photo")

    def _m_sendDocument(self, params: dict[str, Any], files: dict[str, bytes]) -> dict[str, Any]:
        return self._send_media(params, files, "document")

    def _m_sendMediaGroup(self, params: dict[str, Any], files: dict[str, bytes]) -> list[dict[str, Any]]:
        chat_id = _require_chat(params)
        media = params.get("media")
        if not isinstance(media, list) or not 2 <= len(media) <= 10:
            raise _ApiError(400, "Bad Request: media must contain 2-10 items")
        group = f"sent-{next(self._file_ids)}"
        sent = []
        for item in media:
            data = _attached(item.get("media", ""), files)
            _check_caption(item.get("caption"))
            file_id = self.add_file(data)
            sent.append(self._bot_message(chat_id, media_group_id=group, caption=item.get("caption", ""),
                                          photo=[{"file_id": file_id, "file_unique_id": "u" + file_id,
                                                  "width": 512, "height": 512, "file_size": len(data)}]))
        return sent

    def _m_getFile(self, params: dict[str, Any], _files: dict) -> dict[str, Any]:
        file_id = str(params.get("file_id"))
        if file_id not in self._files:
            raise _ApiError(400, "Bad Request: invalid file_id")
        path, data = self._files[file_id]
        return {"file_id": file_id, "file_unique_id": "u" + file_id, "file_size": len(data), "file_path": path}

    def _m_getChatAdministrators(self, params: dict[str, Any], _files: dict) -> list[dict[str, Any]]:
        chat_id = _require_chat(params)
        return [{"status": "administrator", "user": _user(uid), "can_be_edited": False,
                 "is_anonymous": False, "can_manage_chat": True, "can_delete_messages": True,
                 "can_manage_video_chats": True, "can_restrict_members": True, "can_promote_members": False,
                 "can_change_info": True, "can_invite_users": True, "can_post_stories": False,
                 "can_edit_stories": False, "can_delete_stories": False}
                for uid in self.admins.get(chat_id, [])]

    def _send_media(self, params: dict[str, Any], files: dict[str, bytes], kind: str) -> dict[str, Any]:
        chat_id = _require_chat(params)
        data = files.get(kind) or _attached(str(params.get(kind, "")), files)
        _check_caption(params.get("caption"))
        file_id = self.add_file(data)
        info: Any = {"file_id": file_id, "file_unique_id": "u" + file_id, "file_size": len(data)}
        info = [info | {"width": 512, "height": 512}] if kind == "photo" else info
        return self._bot_message(chat_id, caption=params.get("caption", ""), **{kind: info},
                                 **_message_fields(params))

    def _existing(self, params: dict[str, Any]) -> dict[str, Any]:
        key = (_require_chat(params), _as_int(params.get("message_id")) or 0)
        if key not in self.messages:
            raise _ApiError(400, "Bad Request: message to edit not found")
        return self.messages[key]


class _ApiError(Exception):
    def __init__(self, code: int, description: str) -> None:
        super().__init__(description)
        self.code = code
        self.description = description


def _error(code: int, description: str, *, retry_after: int | None = None) -> web.Response:
    body: dict[str, Any] = {"ok": False, "error_code": code, "description": description}
    if retry_after is not None:
        body["parameters"] = {"retry_after": retry_after}
    return web.json_response(body, status=code)


def _decode(value: str) -> Any:
    """PTB JSON-encodes every non-string parameter; plain strings arrive as they are."""
    if value[:1] in "[{" or value in ("true", "false"):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _as_int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _require_chat(params: dict[str, Any]) -> int:
    chat_id = _as_int(params.get("chat_id"))
    if chat_id is None:
        raise _ApiError(400, "Bad Request: chat not found")
    return chat_id


def _check_caption(caption: Any) -> None:
    if caption and len(str(caption)) > 1024:
        raise _ApiError(400, "Bad Request: message caption is too long")


def _attached(ref: str, files: dict[str, bytes]) -> bytes:
    name = ref.removeprefix("attach://")
    if name not in files:
        raise _ApiError(400, "Bad Request: wrong file identifier/HTTP URL specified")
    return files[name]


def _message_fields(params: dict[str, Any]) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    if params.get("reply_markup"):
        fields["reply_markup"] = params["reply_markup"]
    if params.get("reply_parameters"):
        fields["reply_to"] = params["reply_parameters"].get("message_id")
    return fields


def _gist(call: Call) -> str:
    p = call.params
    parts = [f"msg={p['message_id']}"] if "message_id" in p else []
    text = p.get("text") or p.get("caption")
    if text:
        parts.append(repr(" / ".join(str(text).splitlines())[:90]))
    if isinstance(p.get("media"), list):
        parts.append(f"{len(p['media'])} photos")
    if call.files:
        parts.append(f"{len(call.files)} file(s), {sum(map(len, call.files.values()))} bytes")
    markup = p.get("reply_markup")
    if isinstance(markup, dict):
        parts.append("[" + " | ".join(b["text"] for row in markup.get("inline_keyboard", []) for b in row) + "]")
    return " ".join(parts)


def _chat(chat_id: int) -> dict[str, Any]:
    if chat_id > 0:
        return {"id": chat_id, "type": "private", "first_name": f"user{chat_id}"}
    return {"id": chat_id, "type": "supergroup", "title": f"group{chat_id}"}


def _user(user_id: int) -> dict[str, Any]:
    return {"id": user_id, "is_bot": False, "first_name": f"user{user_id}", "username": f"user{user_id}"}


def _bot_user() -> dict[str, Any]:
    return {"id": BOT_ID, "is_bot": True, "first_name": "castbot", "username": BOT_USERNAME}


def _command_entities(text: str) -> list[dict[str, Any]]:
    if not text.startswith("/"):
        return []
    return [{"type": "bot_command", "offset": 0, "length": len(text.split(maxsplit=1)[0])}]
