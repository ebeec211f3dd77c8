"""A fake Discord on 127.0.0.1: gateway websocket + the REST routes castbot uses + a CDN route.

The real discord.py client connects to it (Route.BASE and DiscordWebSocket.DEFAULT_GATEWAY point here).
Every REST call is recorded (method, route, json, files, time) so tests assert on what the bot did.
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

from tests.fakes.discord_payloads import (
    APP_ID,
    BOT_ID,
    UPLOAD_LIMIT,
    Call,
    app_info,
    interaction_payload,
    message_payload,
    read_body,
    snowflake,
    transcript_lines,
    user_payload,
)

__all__ = ["APP_ID", "BOT_ID", "UPLOAD_LIMIT", "Call", "FakeDiscord", "snowflake", "user_payload"]


def _json(data: Any, status: int = 200) -> web.Response:
    # discord.py insists on exactly this header, without a charset suffix.
    return web.Response(status=status, body=json.dumps(data).encode(), headers={"Content-Type": "application/json"})


class FakeDiscord:
    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.messages: dict[str, dict[str, Any]] = {}  # message id -> payload
        self.commands: dict[str, list[dict[str, Any]]] = {}  # "global" | guild id -> registered commands
        self.cdn: dict[str, tuple[bytes, str]] = {}  # path -> (bytes, content type)
        self.expired_tokens: set[str] = set()
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
        return interaction_payload(kind, data, **where)

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

    # --- REST -----------------------------------------------------------------------------------

    async def _cdn(self, request: web.Request) -> web.Response:
        item = self.cdn.get(request.match_info["path"])
        self.calls.append(Call("GET", "/cdn/" + request.match_info["path"], {}, None, at=time.monotonic(),
                               virtual=self.clock(), status=200 if item else 404))
        self._touch()
        if item is None:
            return web.Response(status=404)
        return web.Response(body=item[0], headers={"Content-Type": item[1]})

    async def _rest(self, request: web.Request) -> web.Response:
        path = "/" + request.match_info["path"]
        body, files = await read_body(request)
        call = Call(request.method, path, dict(request.query), body, files, time.monotonic(), virtual=self.clock())
        self.calls.append(call)
        try:
            response = self._unauthorized(request) or self._limited(call) or self._expired(call) or self._route(call)
        finally:
            self._touch()
        call.status = response.status
        return response

    def _unauthorized(self, request: web.Request) -> web.Response | None:
        if self.token is None or request.path.startswith(("/api/v10/webhooks", "/api/v10/interactions")):
            return None  # interaction and webhook routes are authorised by their own token
        if request.headers.get("Authorization") != f"Bot {self.token}":
            return _json({"message": "401: Unauthorized", "code": 0}, 401)
        return None

    def _limited(self, call: Call) -> web.Response | None:
        for rule in self._rate_limits:
            method, prefix, remaining, retry_after = rule
            if remaining > 0 and call.method == method and call.path.startswith(prefix):
                rule[2] -= 1
                body = {"message": "You are being rate limited.", "retry_after": retry_after, "global": False}
                resp = _json(body, 429)
                resp.headers["Retry-After"] = str(retry_after)
                resp.headers["X-RateLimit-Scope"] = "user"
                resp.headers["Via"] = "1.1 google"  # discord.py takes a 429 without it for a Cloudflare ban
                return resp
        return None

    def _expired(self, call: Call) -> web.Response | None:
        parts = call.path.split("/")
        token = parts[3] if parts[1] == "webhooks" and len(parts) > 3 else (
            parts[3] if parts[1] == "interactions" and len(parts) > 3 else None)
        if token is not None and token in self.expired_tokens:
            return _json({"message": "Unknown Webhook", "code": 10015}, 404)
        return None

    def _route(self, call: Call) -> web.Response:
        p = call.path.strip("/").split("/")
        m = call.method
        if p == ["users", "@me"]:
            return _json(user_payload(BOT_ID, "castbot", bot=True))
        if p == ["oauth2", "applications", "@me"]:
            return _json(app_info())
        if p == ["gateway", "bot"]:
            return _json({"url": self.gateway_url, "shards": 1,
                          "session_start_limit": {"total": 1000, "remaining": 999, "reset_after": 0,
                                                  "max_concurrency": 1}})
        if p[0] == "applications" and p[-1] == "commands":
            return self._commands(m, "global" if len(p) == 3 else p[3], call.json)
        if p[0] == "interactions" and p[-1] == "callback":
            return self._callback(p[1], p[2], call)
        if p[0] == "webhooks":
            return self._webhook(m, p[2], p[3:], call)
        if p[0] == "channels" and p[2:3] == ["messages"]:
            return self._channel_message(m, p[1], p[3] if len(p) > 3 else None, call)
        return _json({"message": "404: Not Found", "code": 0}, 404)

    def _commands(self, method: str, where: str, body: Any) -> web.Response:
        if method == "PUT":
            self.commands[where] = [
                {**cmd, "id": self._existing_id(where, cmd["name"]), "application_id": str(APP_ID), "version": "1",
                 **({"guild_id": where} if where != "global" else {})}
                for cmd in body
            ]
        return _json(self.commands.get(where, []))

    def _existing_id(self, where: str, name: str) -> str:
        for cmd in self.commands.get(where, []):
            if cmd["name"] == name:
                return cmd["id"]
        return snowflake()

    def _callback(self, interaction_id: str, token: str, call: Call) -> web.Response:
        body = call.json or {}
        kind = body.get("type")
        data = body.get("data") or {}
        flags = int(data.get("flags") or 0)
        message = None
        if kind in (4, 5, 7):  # a message: sent, deferred ("thinking") or updated
            message = self._store_message(f"{token}:@original", data, call, channel_id="0")
        info = {"id": interaction_id, "type": 2, "response_message_id": message["id"] if message else None,
                "response_message_loading": kind == 5, "response_message_ephemeral": bool(flags & 64)}
        resource = {"type": kind, **({"message": message} if message and kind == 4 else {})}
        return _json({"interaction": info, "resource": resource})

    def _webhook(self, method: str, token: str, rest: list[str], call: Call) -> web.Response:
        if not rest:  # follow-up message
            return _json(self._store_message(snowflake(), call.json or {}, call, channel_id="0"))
        key = rest[1]
        mid = f"{token}:@original" if key == "@original" else key
        if method == "DELETE":
            self.messages.pop(mid, None)
            return web.Response(status=204)
        if mid not in self.messages:
            return _json({"message": "Unknown Message", "code": 10008}, 404)
        if method == "PATCH":
            return _json(self._store_message(mid, call.json or {}, call, edit=True))
        return _json(self.messages[mid])

    def _channel_message(self, method: str, channel_id: str, mid: str | None, call: Call) -> web.Response:
        if method == "POST" and mid is None:
            return _json(self._store_message(snowflake(), call.json or {}, call, channel_id=channel_id))
        if mid is None or mid not in self.messages:
            return _json({"message": "Unknown Message", "code": 10008}, 404)
        if method == "DELETE":
            self.messages.pop(mid)
            return web.Response(status=204)
        if method == "PATCH":
            return _json(self._store_message(mid, call.json or {}, call, edit=True))
        return _json(self.messages[mid])

    def _store_message(self, key: str, data: dict[str, Any], call: Call, *, channel_id: str = "0",
                       edit: bool = False) -> dict[str, Any]:
        old = self.messages.get(key, {})
        msg = message_payload(old, data, call.files, base=self.base, key=key, channel_id=channel_id, edit=edit)
        self.messages[key] = msg
        if msg["id"] != key:
            self.messages[msg["id"]] = msg
        return msg


