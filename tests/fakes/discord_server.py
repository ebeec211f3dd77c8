"""A fake Discord on 127.0.0.1: gateway websocket + the REST routes castbot uses + a CDN route.

The real discord.py client connects to it (Route.BASE and DiscordWebSocket.DEFAULT_GATEWAY point here).
Every REST call is recorded (method, route, json, files, time) so tests assert on what the bot did.
REST is as strict as Discord's documented rules (tests/fakes/discord_rest.py): each refusal is answered
the way the real API answers it and recorded in `ledger`, with whom every message would ping; the tests'
fixtures fail on any refusal a test did not expect (`expect_refusal`).
Failure knobs: 429 with `retry_after` for the next N calls on a route prefix, expired interaction
tokens (webhook routes answer 404 / 10015), and dropping the gateway connection (the client RESUMEs;
events dispatched while it is away are replayed).

Not modelled: permissions and rate-limit buckets beyond injected 429s, message/channel state beyond
what castbot touches, zlib compression, sharding, voice, guild member caches, Discord's own rule that
the first follow-up of a deferred interaction replaces the "thinking" message.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from typing import Any

from aiohttp import WSMsgType, web

from tests.fakes.discord_ledger import Ledger, Ping, Refusal
from tests.fakes.discord_payloads import (
    APP_ID,
    BOT_ID,
    UPLOAD_LIMIT,
    Call,
    interaction_payload,
    snowflake,
    transcript_lines,
    user_payload,
)
from tests.fakes.discord_rest import Issued, RestRoutes

__all__ = ["APP_ID", "BOT_ID", "UPLOAD_LIMIT", "Call", "FakeDiscord", "Ping", "Refusal", "snowflake",
           "user_payload"]


class FakeDiscord(RestRoutes):
    def __init__(self, *, attachment_size_limit: int = UPLOAD_LIMIT) -> None:
        self.calls: list[Call] = []
        self.messages: dict[str, dict[str, Any]] = {}  # message id -> payload
        self.commands: dict[str, list[dict[str, Any]]] = {}  # "global" | guild id -> registered commands
        self.cdn: dict[str, tuple[bytes, str]] = {}  # path -> (bytes, content type)
        self.expired_tokens: set[str] = set()
        self.left_guilds: set[str] = set()  # servers the bot left
        self._rate_limits: list[list[Any]] = []  # [method, path prefix, remaining, retry_after]
        self._changed = asyncio.Event()
        self._ws: web.WebSocketResponse | None = None
        self._session_id = ""
        self._seq = 0
        self._events: list[dict[str, Any]] = []  # every dispatch of the session, for RESUME replay
        self.dispatched: list[tuple[float, str, dict[str, Any], float]] = []  # (time, event, data, virtual)
        self.identifies = 0
        self.resumes = 0
        self._runner: web.AppRunner | None = None
        self.base = ""
        self.token: str | None = None  # when set, REST calls must carry "Bot <token>"
        self.clock: Callable[[], float] = lambda: 0.0  # set to a FakeClock's `now` to stamp virtual time
        self.attachment_size_limit = attachment_size_limit  # sent in each interaction, enforced on its uploads
        self.issued: dict[str, Issued] = {}
        self.by_token: dict[str, Issued] = {}
        self.ledger = Ledger()

    # --- lifecycle ------------------------------------------------------------------------------

    async def start(self) -> FakeDiscord:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_get("/gateway", self._gateway)
        app.router.add_get("/cdn/{path:.*}", self._cdn)
        app.router.add_route("*", "/api/v10/{path:.*}", self._rest)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.base = f"http://127.0.0.1:{port}"
        return self

    async def close(self) -> None:
        if self._ws is not None:
            await self._ws.close()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def api_url(self) -> str:
        return self.base + "/api/v10"

    @property
    def gateway_url(self) -> str:
        return self.base.replace("http://", "ws://") + "/gateway"

    # --- knobs ----------------------------------------------------------------------------------

    def rate_limit(self, method: str, path_prefix: str, *, times: int = 1, retry_after: float = 0.05) -> None:
        self._rate_limits.append([method, path_prefix, times, retry_after])

    def expire_token(self, token: str) -> None:
        self.expired_tokens.add(token)

    def expect_refusal(self, *codes: int) -> Any:
        """`with fake.expect_refusal(50035):` — the block must make Discord refuse with one of `codes`."""
        return self.ledger.expect_refusal(*codes)

    def expect_pings(self) -> Any:
        return self.ledger.expect_pings()

    def unexpected(self) -> list[str]:
        return self.ledger.unexpected()

    async def drop_gateway(self) -> None:
        """Close the websocket as a network failure would; the client should RESUME."""
        ws, self._ws = self._ws, None
        if ws is not None:
            await ws.close(code=4000, message=b"dropped by test")

    def add_attachment(self, data: bytes, *, filename: str = "ref.png", content_type: str | None = "image/png",
                       size: int | None = None) -> dict[str, Any]:
        """Serve bytes on the CDN route and return the attachment object for an interaction payload."""
        att_id = snowflake()
        path = f"attachments/{att_id}/{filename}"
        self.cdn[path] = (data, content_type or "application/octet-stream")
        att = {"id": att_id, "filename": filename, "size": len(data) if size is None else size,
               "url": f"{self.base}/cdn/{path}", "proxy_url": f"{self.base}/cdn/{path}"}
        if content_type:
            att["content_type"] = content_type
        return att

    # --- interactions ---------------------------------------------------------------------------

    async def dispatch(self, event: str, data: dict[str, Any]) -> None:
        self._seq += 1
        frame = {"op": 0, "t": event, "s": self._seq, "d": data}
        self.dispatched.append((time.monotonic(), event, data, self.clock()))
        self._events.append(frame)
        if self._ws is not None and not self._ws.closed:
            await self._ws.send_str(json.dumps(frame))

    def interaction(self, kind: int, data: dict[str, Any], **where: Any) -> dict[str, Any]:
        where.setdefault("attachment_size_limit", self.attachment_size_limit)
        payload = interaction_payload(kind, data, **where)
        user = (payload.get("member") or payload)["user"]["id"]
        issued = Issued(payload["id"], payload["token"], user, payload["channel_id"], self.clock(),
                        payload["attachment_size_limit"])
        self.issued[issued.id] = self.by_token[issued.token] = issued
        return payload

    async def slash(self, name: str, options: list[dict[str, Any]] | None = None, *,
                    attachments: list[dict[str, Any]] | None = None, users: list[dict[str, Any]] | None = None,
                    autocomplete: bool = False, **where: Any) -> dict[str, Any]:
        """Dispatch a slash command (or its autocomplete when `autocomplete`) and return the payload."""
        data: dict[str, Any] = {"id": self._command_id(name), "name": name, "type": 1, "options": options or []}
        resolved: dict[str, Any] = {}
        if attachments:
            resolved["attachments"] = {a["id"]: a for a in attachments}
        if users:
            resolved["users"] = {u["id"]: u for u in users}
        if resolved:
            data["resolved"] = resolved
        payload = self.interaction(4 if autocomplete else 2, data, **where)
        await self.dispatch("INTERACTION_CREATE", payload)
        return payload

    async def press(self, custom_id: str, message_id: str, **where: Any) -> dict[str, Any]:
        message = self.messages[message_id]
        data = {"custom_id": custom_id, "component_type": 2}
        payload = self.interaction(3, data, message=message, **where)
        await self.dispatch("INTERACTION_CREATE", payload)
        return payload

    async def submit_modal(self, custom_id: str, values: dict[str, str], **where: Any) -> dict[str, Any]:
        rows = [{"type": 1, "components": [{"type": 4, "custom_id": k, "value": v}]} for k, v in values.items()]
        payload = self.interaction(5, {"custom_id": custom_id, "components": rows}, **where)
        await self.dispatch("INTERACTION_CREATE", payload)
        return payload

    def _command_id(self, name: str) -> str:
        for cmds in self.commands.values():
            for cmd in cmds:
                if cmd["name"] == name:
                    return cmd["id"]
        return snowflake()

    # --- waiting (bounded, event-driven) --------------------------------------------------------

    async def wait_for(self, predicate: Callable[[], Any], *, within: float = 10.0) -> Any:
        """Wait until `predicate()` is truthy, re-checking on every REST call or gateway frame."""
        async with asyncio.timeout(within):
            while not (result := predicate()):
                self._changed.clear()
                await self._changed.wait()
            return result

    async def wait_call(self, method: str, path_part: str, *, after: int = 0, within: float = 10.0) -> Call:
        def found() -> Call | None:
            return next((c for c in self.calls[after:] if c.method == method and path_part in c.path), None)
        return await self.wait_for(found, within=within)

    def find(self, method: str, path_part: str) -> list[Call]:
        return [c for c in self.calls if c.method == method and path_part in c.path]

    def transcript(self, *, since: float = 0.0) -> list[str]:
        """What happened, as the fake saw it: gateway dispatches and REST calls in time order."""
        return transcript_lines(self.dispatched, self.calls, since=since)

    def _touch(self) -> None:
        self._changed.set()

    # --- gateway --------------------------------------------------------------------------------

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self._ws = ws
        await ws.send_str(json.dumps({"op": 10, "d": {"heartbeat_interval": 41250}}))
        async for msg in ws:
            if msg.type is not WSMsgType.TEXT:
                break
            await self._on_frame(ws, json.loads(msg.data))
            self._touch()
        if self._ws is ws:
            self._ws = None
        self._touch()
        return ws

    async def _on_frame(self, ws: web.WebSocketResponse, frame: dict[str, Any]) -> None:
        op = frame.get("op")
        if op == 1:
            await ws.send_str(json.dumps({"op": 11}))
        elif op == 2:
            self.identifies += 1
            self._session_id, self._seq, self._events = f"session-{snowflake()}", 0, []
            await self.dispatch("READY", {
                "v": 10, "user": user_payload(BOT_ID, "castbot", bot=True), "guilds": [],
                "session_id": self._session_id, "resume_gateway_url": self.gateway_url,
                "application": {"id": str(APP_ID), "flags": 0}, "private_channels": [], "relationships": [],
            })
        elif op == 6:
            self.resumes += 1
            last = frame["d"].get("seq") or 0
            for event in self._events:
                if event["s"] > last:
                    await ws.send_str(json.dumps(event))
            self._seq += 1
            await ws.send_str(json.dumps({"op": 0, "t": "RESUMED", "s": self._seq, "d": {}}))

    # --- CDN ------------------------------------------------------------------------------------

    async def _cdn(self, request: web.Request) -> web.Response:
        item = self.cdn.get(request.match_info["path"])
        self.calls.append(Call("GET", "/cdn/" + request.match_info["path"], {}, None, at=time.monotonic(),
                               virtual=self.clock(), status=200 if item else 404))
        self._touch()
        if item is None:
            return web.Response(status=404)
        return web.Response(body=item[0], headers={"Content-Type": item[1]})
