"""A fake Telegram Bot API server on 127.0.0.1 for driving the real PTB application in tests.

It speaks the wire protocol PTB 22 uses: POST `/bot<token>/<method>` with form-encoded (or multipart,
when files are attached) parameters whose complex values are JSON strings; answers
`{"ok": true, "result": ...}` or `{"ok": false, "error_code": ..., "description": ...}`. Files are served
under `/file/bot<token>/<path>`. Tests enqueue updates (`send_text`, `send_photo`, `press`, ...) that a
long-polled `getUpdates` hands out, and assert on `calls`, the record of every request the bot made.

It is as strict as the real API (rules.py, flood.py, methods.py) and records every refusal in
`refusals`; the shared fixture fails a test whose fake refused anything the test did not expect with
`expect_refusal`. Faults a test injects on purpose (`flood`) are answered but not recorded.
"""

from __future__ import annotations

import contextlib
import itertools
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar
from urllib.parse import unquote

from aiohttp import web

from tests.fakes.telegram.flood import MESSAGE_METHODS, FloodLimits
from tests.fakes.telegram.methods import BotApiMethods, _Poll
from tests.fakes.telegram.wire import (
    ApiError,
    Call,
    Refusal,
    as_int,
    chat,
    command_entities,
    decode,
    error_response,
    gist,
    user,
)


@dataclass
class _Flood:
    retry_after: int
    times: int
    methods: frozenset[str] | None


@dataclass
class FakeTelegramServer(BotApiMethods):
    token: str = "123456:TEST-token-never-logged"
    clock: Callable[[], float] = time.monotonic  # stamps calls and runs the flood limits
    calls: list[Call] = field(default_factory=list)
    admins: dict[int, list[int]] = field(default_factory=dict)  # chat id -> admin user ids
    messages: dict[tuple[int, int], dict[str, Any]] = field(default_factory=dict)
    refusals: list[Refusal] = field(default_factory=list)
    left: set[int] = field(default_factory=set)  # chats the bot left (leaveChat): it may not post there any more

    created: ClassVar[list[FakeTelegramServer]] = []  # every fake of the running test, for the fixture

    def __post_init__(self) -> None:
        self._updates: list[dict[str, Any]] = []
        self.unopened: set[int] = set()
        self._update_ids = itertools.count(1)
        self._message_ids: dict[int, itertools.count[int]] = {}
        self._files: dict[str, tuple[str, bytes]] = {}
        self._file_ids = itertools.count(1)
        self._floods: dict[int, _Flood] = {}
        self._limits = FloodLimits()
        self._poll: _Poll | None = None
        self._expected: list[str] = []  # description fragments an open expect_refusal block allows
        self.expected_refusals: list[Refusal] = []
        self._runner: web.AppRunner | None = None
        self.port = 0
        FakeTelegramServer.created.append(self)

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
        if self._poll is not None:
            self._poll.wake.set()
        if self._runner:
            await self._runner.cleanup()

    # --- refusals --------------------------------------------------------------------------------

    @contextlib.contextmanager
    def expect_refusal(self, fragment: str) -> Iterator[None]:
        """Refusals whose description contains `fragment` are expected inside this block — and one must come."""
        start = len(self.refusals)
        self._expected.append(fragment)
        try:
            yield
        finally:
            self._expected.remove(fragment)
        matched = [r for r in self.refusals[start:] if fragment in r.description]
        assert matched, f"the fake never refused a call with {fragment!r}; it refused {self.refusals[start:]}"

    def allow_refusal(self, fragment: str) -> None:
        """Refusals whose description contains `fragment` are expected from now on, without requiring one."""
        self._expected.append(fragment)

    def unexpected_refusals(self) -> list[Refusal]:
        return [r for r in self.refusals if r not in self.expected_refusals]

    def _refuse(self, call: Call, exc: ApiError) -> web.Response:
        call.status = exc.code
        if exc.recorded:
            refusal = Refusal(call.method, exc.code, exc.description, call.chat_id)
            self.refusals.append(refusal)
            if any(fragment in exc.description for fragment in self._expected):
                self.expected_refusals.append(refusal)
        return error_response(exc)

    # --- what tests do ---------------------------------------------------------------------------

    def flood(self, chat_id: int, retry_after: int, *, times: int = 1, methods: set[str] | None = None) -> None:
        """Answer the next `times` calls aimed at `chat_id` (optionally only these methods) with a 429."""
        self._floods[chat_id] = _Flood(retry_after, times, frozenset(methods) if methods else None)

    def send_text(self, chat_id: int, user_id: int, text: str, **extra: Any) -> dict[str, Any]:
        """A user types `text` (a leading /command gets its bot_command entity, as Telegram does)."""
        msg = self._user_message(chat_id, user_id, text=text, entities=command_entities(text), **extra)
        self._push({"message": msg})
        return msg

    def send_photo(self, chat_id: int, user_id: int, data: bytes, caption: str = "", **extra: Any) -> dict[str, Any]:
        file_id = self.add_file(data)
        sizes = [{"file_id": file_id, "file_unique_id": "u" + file_id, "width": 512, "height": 512,
                  "file_size": len(data)}]
        fields: dict[str, Any] = {"photo": sizes}
        if caption:
            fields |= {"caption": caption, "caption_entities": command_entities(caption)}
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
            fields |= {"caption": caption, "caption_entities": command_entities(caption)}
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
        edited = dict(message, text=text, entities=command_entities(text), edit_date=int(time.time()))
        self._push({"edited_message": edited})

    def press(self, user_id: int, message: dict[str, Any], data: str) -> str:
        """A user presses an inline button carrying `data` under a message the bot sent."""
        query_id = f"cbq-{next(self._update_ids)}"
        self._push({"callback_query": {"id": query_id, "from": user(user_id), "chat_instance": "ci",
                                       "data": data, "message": message}})
        return query_id

    def bot_messages(self, chat_id: int) -> list[dict[str, Any]]:
        """The bot's messages in a chat as they stand now (edits applied), oldest first."""
        return [m for (c, _), m in sorted(self.messages.items()) if c == chat_id and m["from"]["is_bot"]]

    def transcript(self, chat_id: int, *, start: float | None = None) -> str:
        """The bot's calls to one chat as readable lines: time, method, status, the gist of the parameters."""
        calls = [c for c in self.calls if c.chat_id == chat_id]
        origin = start if start is not None else (calls[0].at if calls else 0.0)
        return "\n".join(f"+{c.at - origin:7.1f}s {c.method:<16} {c.status} {gist(c)}" for c in calls)

    def calls_to(self, method: str, chat_id: int | None = None) -> list[Call]:
        return [c for c in self.calls if c.method == method and (chat_id is None or c.chat_id == chat_id)]

    # --- plumbing --------------------------------------------------------------------------------

    def _push(self, update: dict[str, Any]) -> None:
        update["update_id"] = next(self._update_ids)
        self._updates.append(update)
        if self._poll is not None:
            self._poll.wake.set()

    def _user_message(self, chat_id: int, user_id: int, **fields: Any) -> dict[str, Any]:
        if chat_id == user_id:  # they wrote to the bot in private: its chat with them is open now
            self.unopened.discard(user_id)
        msg = {"message_id": self._next_message_id(chat_id), "date": int(time.time()),
               "chat": chat(chat_id), "from": user(user_id), **fields}
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
                params[key] = decode(str(value))
        return params, files

    def _injected_flood(self, chat_id: int | None, method: str) -> ApiError | None:
        flood = self._floods.get(chat_id) if chat_id is not None else None
        if flood and flood.times > 0 and (flood.methods is None or method in flood.methods):
            flood.times -= 1
            return ApiError(429, f"Too Many Requests: retry after {flood.retry_after}",
                            retry_after=flood.retry_after, recorded=False)
        return None

    def _flood_limit(self, chat_id: int | None, method: str) -> ApiError | None:
        if chat_id is None or method not in MESSAGE_METHODS:
            return None
        wait = self._limits.retry_after(chat_id, self.clock())
        if wait is None:
            return None
        return ApiError(429, f"Too Many Requests: retry after {wait}", retry_after=wait)

    async def _handle_method(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params, files = await self._read_params(request)
        chat_id = as_int(params.get("chat_id"))
        call = Call(method, chat_id, params, files, self.clock())
        self.calls.append(call)
        if unquote(request.match_info["token"]) != self.token:
            return self._refuse(call, ApiError(401, "Unauthorized"))
        refused = self._injected_flood(chat_id, method) or self._flood_limit(chat_id, method)
        if refused is not None:
            return self._refuse(call, refused)
        handler = getattr(self, "_m_" + method, None)
        if handler is None:
            return self._refuse(call, ApiError(404, f"Not Found: method {method} is not faked"))
        try:
            if method == "getUpdates":
                result = await handler(params, request)
            else:
                result = handler(params, files)
        except ApiError as exc:
            return self._refuse(call, exc)
        if chat_id is not None and method in MESSAGE_METHODS:
            self._limits.sent(chat_id, self.clock())
        return web.json_response({"ok": True, "result": result})

    async def _handle_file(self, request: web.Request) -> web.Response:
        if unquote(request.match_info["token"]) != self.token:
            return web.Response(status=401)
        path = unquote(request.match_info["path"])
        for file_path, data in self._files.values():
            if file_path == path:
                return web.Response(body=data, content_type="application/octet-stream")
        return web.Response(status=404)
