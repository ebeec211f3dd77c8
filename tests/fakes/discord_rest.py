"""The fake Discord's REST side, as strict as the real API: each refusal answered and recorded.

Answers, with the source of each rule (discord/discord-api-docs, developers/...):
- 400 / 50035 "Invalid Form Body" with Discord's nested `errors` for the limits in
  tests/fakes/discord_rules.py (commands, messages, components, allowed_mentions);
- 413 / 40005 "Request entity too large" for a file over the interaction's `attachment_size_limit` or a
  request over 25 MiB (reference.mdx "Uploading Files"; message.mdx Create Message "Limitations");
- 404 / 10062 "Unknown interaction" for a callback to an interaction Discord never sent, or after its
  token expired; 400 / 40060 "Interaction has already been acknowledged" for a second initial response
  (opcodes-and-status-codes.mdx "JSON Error Codes");
- 401 / 50027 "Invalid Webhook Token" on follow-ups and edits once the token is 15 minutes old on the
  fake's clock (interactions/receiving-and-responding.mdx: "Interaction tokens are valid for 15 minutes");
  404 / 10015 "Unknown Webhook" for tokens a test expired by hand;
- 429 with `retry_after`, `global`, Retry-After and X-RateLimit-* headers (topics/rate-limits.mdx) when a
  test asks for it.
Not modelled: the 3-second deadline for the initial response (virtual time runs ahead of real I/O in
tests; the chaos run measures it in real time), permissions, real rate-limit buckets.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from tests.fakes.discord_ledger import Ledger, Ping
from tests.fakes.discord_payloads import (
    APP_ID,
    BOT_ID,
    Call,
    app_info,
    json_response,
    message_payload,
    read_body,
    short,
    snowflake,
    user_payload,
)
from tests.fakes.discord_rules import (
    EVERYTHING,
    REQUEST_MAX,
    USERS_ONLY,
    Problem,
    autocomplete_problems,
    command_problems,
    form_error,
    message_problems,
    pings,
)

TOKEN_LIFETIME = 15 * 60.0
MESSAGE_FIELDS = ("content", "components", "embeds")
INJECTED = web.ResponseKey("injected", bool)  # a failure the test asked for


@dataclass
class Issued:
    """An interaction the fake dispatched: who asked, where, when, and whether it was answered."""

    id: str
    token: str
    user_id: str
    channel_id: str
    at: float  # the fake's clock
    upload_limit: int
    acked: bool = False


def _error(status: int, code: int, message: str, **extra: Any) -> web.Response:
    return json_response({"message": message, "code": code, **extra}, status)


class RestRoutes:
    """Mixed into FakeDiscord: the routes castbot uses, checked like the real API checks them."""

    calls: list[Call]
    messages: dict[str, dict[str, Any]]
    commands: dict[str, list[dict[str, Any]]]
    expired_tokens: set[str]
    left_guilds: set[str]
    issued: dict[str, Issued]  # interaction id -> record
    by_token: dict[str, Issued]
    ledger: Ledger
    attachment_size_limit: int
    _rate_limits: list[list[Any]]
    base: str
    token: str | None
    clock: Callable[[], float]
    gateway_url: str

    def _touch(self) -> None: ...

    async def _rest(self, request: web.Request) -> web.Response:
        path = "/" + request.match_info["path"]
        body, files = await read_body(request)
        call = Call(request.method, path, dict(request.query), body, files, time.monotonic(), virtual=self.clock())
        self.calls.append(call)
        try:
            response = self._unauthorized(request) or self._limited(call) or self._route(call)
            if response.status >= 400:
                answer = json.loads(response.body) if isinstance(response.body, bytes) else {}
                self.ledger.refuse(f"{call.method} {short(path)}", response.status, int(answer.get("code", 0)),
                                   str(answer.get("message", "")), injected=response.get(INJECTED, False))
        finally:
            self._touch()
        call.status = response.status
        return response

    def _unauthorized(self, request: web.Request) -> web.Response | None:
        if self.token is None or request.path.startswith(("/api/v10/webhooks", "/api/v10/interactions")):
            return None  # interaction and webhook routes are authorised by their own token
        if request.headers.get("Authorization") != f"Bot {self.token}":
            return _error(401, 0, "401: Unauthorized")
        return None

    def _limited(self, call: Call) -> web.Response | None:
        for rule in self._rate_limits:
            method, prefix, remaining, retry_after = rule
            if remaining > 0 and call.method == method and call.path.startswith(prefix):
                rule[2] -= 1
                resp = _error(429, 0, "You are being rate limited.", retry_after=retry_after, **{"global": False})
                resp.headers.update({
                    "Retry-After": str(retry_after), "X-RateLimit-Scope": "user", "X-RateLimit-Limit": "5",
                    "X-RateLimit-Remaining": "0", "X-RateLimit-Reset-After": str(retry_after),
                    "X-RateLimit-Reset": f"{time.time() + retry_after:.3f}", "X-RateLimit-Bucket": "fake-bucket",
                    "Via": "1.1 google",  # discord.py takes a 429 without it for a Cloudflare ban
                })
                resp[INJECTED] = True
                return resp
        return None

    def _route(self, call: Call) -> web.Response:
        p = call.path.strip("/").split("/")
        m = call.method
        if p == ["users", "@me"]:
            return json_response(user_payload(BOT_ID, "castbot", bot=True))
        if p[:3] == ["users", "@me", "guilds"] and len(p) == 4 and m == "DELETE":  # leave a server
            if p[3] in self.left_guilds:
                return _error(404, 10004, "Unknown Guild")
            self.left_guilds.add(p[3])
            return web.Response(status=204)
        if p == ["oauth2", "applications", "@me"]:
            return json_response(app_info())
        if p == ["gateway", "bot"]:
            return json_response({"url": self.gateway_url, "shards": 1, "session_start_limit": {
                "total": 1000, "remaining": 999, "reset_after": 0, "max_concurrency": 1}})
        if p[0] == "applications" and p[-1] == "commands":
            return self._commands(m, "global" if len(p) == 3 else p[3], call.json)
        if p[0] == "interactions" and p[-1] == "callback":
            return self._callback(p[1], p[2], call)
        if p[0] == "webhooks":
            return self._webhook(m, p[2], p[3:], call)
        if p[0] == "channels" and p[2:3] == ["messages"]:
            return self._channel_message(m, p[1], p[3] if len(p) > 3 else None, call)
        return _error(404, 0, "404: Not Found")

    # --- commands -------------------------------------------------------------------------------

    def _commands(self, method: str, where: str, body: Any) -> web.Response:
        if method == "PUT":
            problems = [Problem((i, *p.path), p.code, p.message)
                        for i, cmd in enumerate(body) for p in command_problems(cmd)]
            if problems:
                return json_response(form_error(problems), 400)
            self.commands[where] = [
                {**cmd, "id": self._existing_id(where, cmd["name"]), "application_id": str(APP_ID), "version": "1",
                 **({"guild_id": where} if where != "global" else {})}
                for cmd in body
            ]
        return json_response(self.commands.get(where, []))

    def _existing_id(self, where: str, name: str) -> str:
        return next((c["id"] for c in self.commands.get(where, []) if c["name"] == name), snowflake())

    # --- interactions and webhooks --------------------------------------------------------------

    def _callback(self, interaction_id: str, token: str, call: Call) -> web.Response:
        issued = self.issued.get(interaction_id)
        if issued is None or issued.token != token or self._age(issued) >= TOKEN_LIFETIME:
            return _error(404, 10062, "Unknown interaction")
        if issued.acked:
            return _error(400, 40060, "Interaction has already been acknowledged.")
        body = call.json or {}
        kind = body.get("type")
        data = body.get("data") or {}
        problems = autocomplete_problems(data) if kind == 8 else (
            message_problems(data, len(call.files)) if kind in (4, 7) else [])
        if problems:
            return json_response(form_error(problems, under=("data",)), 400)
        if too_big := self._too_big(call, issued.upload_limit):
            return too_big
        issued.acked = True
        flags = int(data.get("flags") or 0)
        message = None
        if kind in (4, 5, 7):  # a message: sent, deferred ("thinking") or updated
            message = self._store_message(f"{token}:@original", data, call, channel_id=issued.channel_id,
                                          default=USERS_ONLY, allowed={issued.user_id})
        info = {"id": interaction_id, "type": 2, "response_message_id": message["id"] if message else None,
                "response_message_loading": kind == 5, "response_message_ephemeral": bool(flags & 64)}
        resource = {"type": kind, **({"message": message} if message and kind == 4 else {})}
        return json_response({"interaction": info, "resource": resource})

    def _webhook(self, method: str, token: str, rest: list[str], call: Call) -> web.Response:
        if token in self.expired_tokens:
            resp = _error(404, 10015, "Unknown Webhook")
            resp[INJECTED] = True
            return resp
        issued = self.by_token.get(token)
        if issued is not None and self._age(issued) >= TOKEN_LIFETIME:
            return _error(401, 50027, "Invalid Webhook Token")
        allowed = {issued.user_id} if issued else set()
        channel = issued.channel_id if issued else "0"
        limit = issued.upload_limit if issued else self.attachment_size_limit
        if method in ("POST", "PATCH"):
            if problems := message_problems(call.json or {}, len(call.files)):
                return json_response(form_error(problems), 400)
            if too_big := self._too_big(call, limit):
                return too_big
        if not rest:  # follow-up message
            return json_response(self._store_message(snowflake(), call.json or {}, call, channel_id=channel,
                                                     default=USERS_ONLY, allowed=allowed))
        key = rest[1]
        mid = f"{token}:@original" if key == "@original" else key
        if method == "DELETE":
            self.messages.pop(mid, None)
            return web.Response(status=204)
        if mid not in self.messages:
            return _error(404, 10008, "Unknown Message")
        if method == "PATCH":
            return json_response(self._store_message(mid, call.json or {}, call, edit=True, default=USERS_ONLY,
                                                     allowed=allowed))
        return json_response(self.messages[mid])

    def _channel_message(self, method: str, channel_id: str, mid: str | None, call: Call) -> web.Response:
        # a channel message may notify someone who asked the bot for something in that channel
        allowed = {i.user_id for i in self.issued.values() if i.channel_id == channel_id}
        if method in ("POST", "PATCH"):
            if problems := message_problems(call.json or {}, len(call.files)):
                return json_response(form_error(problems), 400)
            if too_big := self._too_big(call, self.attachment_size_limit):
                return too_big
        if method == "POST" and mid is None:
            return json_response(self._store_message(snowflake(), call.json or {}, call, channel_id=channel_id,
                                                     default=EVERYTHING, allowed=allowed))
        if mid is None or mid not in self.messages:
            return _error(404, 10008, "Unknown Message")
        if method == "DELETE":
            self.messages.pop(mid)
            return web.Response(status=204)
        if method == "PATCH":
            return json_response(self._store_message(mid, call.json or {}, call, edit=True, default=EVERYTHING,
                                                     allowed=allowed))
        return json_response(self.messages[mid])

    # --- checks shared by every message route ---------------------------------------------------

    def _age(self, issued: Issued) -> float:
        return self.clock() - issued.at

    @staticmethod
    def _too_big(call: Call, limit: int) -> web.Response | None:
        sizes = [len(blob) for _, blob in call.files]
        if any(size > limit for size in sizes) or sum(sizes) > max(REQUEST_MAX, limit):
            return _error(413, 40005, "Request entity too large")
        return None

    def _store_message(self, key: str, data: dict[str, Any], call: Call, *, channel_id: str = "0",
                       edit: bool = False, default: tuple[str, ...], allowed: set[str]) -> dict[str, Any]:
        old = self.messages.get(key, {})
        route = f"{call.method} {short(call.path)}"
        if edit and self._unchanged(old, data, call):
            self.ledger.noop_edits.append(route)
        notified = None
        if "content" in data:  # Discord rebuilds a message's mentions whenever its content is set
            notified = pings(str(data.get("content") or ""), data.get("allowed_mentions"), default=default)
        msg = message_payload(old, data, call.files, base=self.base, key=key, channel_id=channel_id, edit=edit,
                              pings=notified)
        if notified:
            self.ledger.pings.append(Ping(route, msg["id"], notified, frozenset(allowed)))
        self.messages[key] = msg
        if msg["id"] != key:
            self.messages[msg["id"]] = msg
        return msg

    @staticmethod
    def _unchanged(old: dict[str, Any], data: dict[str, Any], call: Call) -> bool:
        shown = [k for k in MESSAGE_FIELDS if k in data]
        if call.files or "attachments" in data or not shown or not old:
            return False
        return all((data[k] or ([] if k != "content" else "")) == old.get(k) for k in shown)
