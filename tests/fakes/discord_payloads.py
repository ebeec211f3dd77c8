"""Payloads the fake Discord sends and records: interactions, users, the application, call records."""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.fakes.discord_rules import Pings

APP_ID = 900_000_000_000_000_001
BOT_ID = APP_ID
UPLOAD_LIMIT = 10 * 1024 * 1024
_snowflakes = itertools.count(1_300_000_000_000_000_000)


def snowflake() -> str:
    return str(next(_snowflakes))


@dataclass
class Call:
    """One REST request the bot made."""

    method: str
    path: str  # without the /api/v10 prefix and query
    query: dict[str, str]
    json: Any
    files: list[tuple[str, bytes]] = field(default_factory=list)  # (filename, bytes)
    at: float = 0.0
    status: int = 200
    virtual: float = 0.0  # the test's clock (FakeClock) when the call arrived


def user_payload(user_id: int | str, name: str = "user", *, bot: bool = False) -> dict[str, Any]:
    return {"id": str(user_id), "username": name, "global_name": name, "discriminator": "0",
            "avatar": None, "bot": bot, "public_flags": 0}


def interaction_payload(kind: int, data: dict[str, Any], *, user_id: int = 111, guild_id: int | None = 222,
                        channel_id: int = 333, permissions: str = "0", message: dict[str, Any] | None = None,
                        thread: bool = False, attachment_size_limit: int = UPLOAD_LIMIT,
                        token: str | None = None, nsfw: bool = False) -> dict[str, Any]:
    """`nsfw`: the guild channel is marked age-restricted (Discord sends the flag in the channel object)."""
    payload: dict[str, Any] = {
        "id": snowflake(), "application_id": str(APP_ID), "type": kind, "data": data,
        "token": token or f"tok-{snowflake()}", "version": 1, "locale": "en-US",
        "attachment_size_limit": attachment_size_limit,
        "app_permissions": "2251799813685247", "entitlements": [], "authorizing_integration_owners": {},
    }
    user = user_payload(user_id, f"user{user_id}")
    if guild_id is None:
        payload["user"] = user
        payload["context"] = 1
        payload["channel"] = {"id": str(channel_id), "type": 1, "recipients": [user]}
    else:
        payload["guild_id"] = str(guild_id)
        payload["guild_locale"] = "en-US"
        payload["context"] = 0
        payload["member"] = {"user": user, "roles": [], "joined_at": "2024-01-01T00:00:00+00:00",
                             "deaf": False, "mute": False, "flags": 0, "permissions": permissions}
        payload["channel"] = {"id": str(channel_id), "type": 0, "guild_id": str(guild_id), "name": "general",
                              "position": 0, "permission_overwrites": [], "nsfw": nsfw}
        if thread:  # a public thread under the channel above
            payload["channel"] = {
                "id": str(channel_id), "type": 11, "guild_id": str(guild_id), "parent_id": "334",
                "name": "a thread", "owner_id": str(user_id), "message_count": 1, "member_count": 1,
                "rate_limit_per_user": 0, "flags": 0, "thread_metadata": {
                    "archived": False, "auto_archive_duration": 1440, "locked": False,
                    "archive_timestamp": "2026-01-01T00:00:00+00:00"}}
    payload["channel_id"] = str(channel_id)
    if message is not None:
        payload["message"] = message
    return payload


async def read_body(request: web.Request) -> tuple[Any, list[tuple[str, bytes]]]:
    if request.content_type.startswith("multipart/"):
        body: Any = None
        files: list[tuple[str, bytes]] = []
        reader = await request.multipart()
        async for part in reader:
            data = await part.read()  # type: ignore[union-attr]
            if part.name == "payload_json":  # type: ignore[union-attr]
                body = json.loads(data)
            else:
                files.append((part.filename or "file", bytes(data)))  # type: ignore[union-attr]
        return body, files
    raw = await request.read()
    return (json.loads(raw) if raw else None), []


def app_info() -> dict[str, Any]:
    return {
        "id": str(APP_ID), "name": "castbot", "icon": None, "description": "", "rpc_origins": [],
        "bot_public": True, "bot_require_code_grant": False, "owner": user_payload(1, "owner"),
        "summary": "", "verify_key": "0" * 64, "team": None, "flags": 0,
        "bot": user_payload(BOT_ID, "castbot", bot=True),
    }


def short(path: str) -> str:
    """Paths with tokens and snowflakes shortened, so a transcript stays readable."""
    parts = [p if len(p) < 16 else p[:6] + "…" for p in path.split("/")]
    return "/".join(parts)


def describe_event(data: dict[str, Any]) -> str:
    inner = data.get("data") or {}
    kinds = {2: "slash", 3: "button", 4: "autocomplete", 5: "dialog"}
    who = (data.get("member") or {}).get("user", data.get("user") or {}).get("id", "?")
    what = f"/{inner['name']}" if "name" in inner else inner.get("custom_id", "")
    return f"({kinds.get(data.get('type', 0), '?')} {what} by user {who})"


def describe_call(call: Call) -> str:
    body = call.json if isinstance(call.json, dict) else {}
    bits = []
    if "type" in body:
        bits.append(f"type={body['type']}")
    content = body.get("content") or (body.get("data") or {}).get("content")
    if content:
        first = str(content).splitlines()
        bits.append(repr(" / ".join(first)[:90]))
    buttons = [b.get("custom_id") for row in body.get("components") or [] for b in row.get("components", [])]
    if buttons and all(buttons):
        bits.append(f"buttons={','.join(b.split(':')[1] for b in buttons if b.count(':') == 2)}")
    if call.files:
        bits.append(f"files={len(call.files)}")
    return (" ".join(bits) + " ") if bits else ""


def json_response(data: Any, status: int = 200) -> web.Response:
    # discord.py insists on exactly this header, without a charset suffix.
    return web.Response(status=status, body=json.dumps(data).encode(), headers={"Content-Type": "application/json"})


def message_payload(old: dict[str, Any], data: dict[str, Any], files: list[tuple[str, bytes]], *, base: str, key: str,
                    channel_id: str, edit: bool, pings: Pings | None = None) -> dict[str, Any]:
    """A message object as Discord returns it, after a create (`old` empty) or an edit."""
    attachments = [{"id": snowflake(), "filename": name, "size": len(blob), "url": f"{base}/cdn/x/{name}",
                    "proxy_url": f"{base}/cdn/x/{name}"} for name, blob in files]
    return {
        "id": old.get("id") or (key if key.isdigit() else snowflake()),
        "channel_id": old.get("channel_id", channel_id), "author": user_payload(BOT_ID, "castbot", bot=True),
        "content": data.get("content", old.get("content", "")) or "",
        "timestamp": "2026-01-01T00:00:00+00:00", "edited_timestamp": None, "tts": False,
        "mention_everyone": (pings.everyone or pings.here) if pings else old.get("mention_everyone", False),
        "mentions": [user_payload(u) for u in sorted(pings.users)] if pings else old.get("mentions", []),
        "mention_roles": sorted(pings.roles) if pings else old.get("mention_roles", []), "pinned": False, "type": 0,
        "flags": int(data.get("flags", old.get("flags", 0)) or 0),
        "embeds": data.get("embeds", old.get("embeds", [])) or [],
        "components": data.get("components", old.get("components", [])) or [],
        "attachments": attachments or ([] if edit and "attachments" in data else old.get("attachments", [])),
    }


def transcript_lines(dispatched: list[tuple[float, str, dict[str, Any], float]], calls: list[Call], *,
                     since: float = 0.0) -> list[str]:
    """Gateway dispatches and REST calls in time order, one readable line each: real and virtual time."""
    rows = [(at, virtual, f"gateway  → {event} {describe_event(data)}")
            for at, event, data, virtual in dispatched if at >= since and event != "READY"]
    rows += [(c.at, c.virtual, f"REST     ← {c.method} {short(c.path)} {describe_call(c)}→ {c.status}")
             for c in calls if c.at >= since]
    rows.sort(key=lambda r: r[0])
    start, v0 = (rows[0][0], rows[0][1]) if rows else (0.0, 0.0)
    return [f"+{at - start:6.3f}s real  +{virtual - v0:5.1f}s virtual  {text}" for at, virtual, text in rows]
