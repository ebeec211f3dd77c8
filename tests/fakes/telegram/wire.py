"""The Bot API's wire format as the fake speaks it: records, error answers, parameter decoding, stock objects."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from aiohttp import web

BOT_ID = 999_000
BOT_USERNAME = "castbot"


@dataclass
class Call:
    """One request the bot made."""

    method: str
    chat_id: int | None
    params: dict[str, Any]
    files: dict[str, bytes]
    at: float  # the fake's clock when it arrived
    status: int = 200


@dataclass(frozen=True, eq=False)  # by identity: two alike refusals are still two, one maybe unexpected
class Refusal:
    """One call the fake refused the way the real Bot API would (a test fails on any it did not expect)."""

    method: str
    code: int
    description: str
    chat_id: int | None


class ApiError(Exception):
    """The API answered and refused. `recorded=False` for faults a test injected on purpose."""

    def __init__(self, code: int, description: str, *, retry_after: int | None = None,
                 recorded: bool = True) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.retry_after = retry_after
        self.recorded = recorded


def error_response(exc: ApiError) -> web.Response:
    body: dict[str, Any] = {"ok": False, "error_code": exc.code, "description": exc.description}
    if exc.retry_after is not None:
        body["parameters"] = {"retry_after": exc.retry_after}
    return web.json_response(body, status=exc.code)


def decode(value: str) -> Any:
    """PTB JSON-encodes every non-string parameter; plain strings arrive as they are."""
    if value[:1] in "[{" or value in ("true", "false"):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def as_int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def require_chat(params: dict[str, Any]) -> int:
    chat_id = as_int(params.get("chat_id"))
    if chat_id is None:
        raise ApiError(400, "Bad Request: chat not found")
    return chat_id


def attached(ref: str, files: dict[str, bytes]) -> bytes:
    name = ref.removeprefix("attach://")
    if name not in files:
        raise ApiError(400, "Bad Request: wrong file identifier/HTTP URL specified")
    return files[name]


def message_fields(params: dict[str, Any]) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    if params.get("reply_markup"):
        fields["reply_markup"] = params["reply_markup"]
    if params.get("reply_parameters"):
        fields["reply_to"] = params["reply_parameters"].get("message_id")
    return fields


def gist(call: Call) -> str:
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


def chat(chat_id: int) -> dict[str, Any]:
    if chat_id > 0:
        return {"id": chat_id, "type": "private", "first_name": f"user{chat_id}"}
    return {"id": chat_id, "type": "supergroup", "title": f"group{chat_id}"}


def user(user_id: int) -> dict[str, Any]:
    return {"id": user_id, "is_bot": False, "first_name": f"user{user_id}", "username": f"user{user_id}"}


def bot_user() -> dict[str, Any]:
    return {"id": BOT_ID, "is_bot": True, "first_name": "castbot", "username": BOT_USERNAME}


def command_entities(text: str) -> list[dict[str, Any]]:
    if not text.startswith("/"):
        return []
    return [{"type": "bot_command", "offset": 0, "length": len(text.split(maxsplit=1)[0])}]
