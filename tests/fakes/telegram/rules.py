"""The Bot API's documented limits as pure checks; each raises ApiError worded as the real API words it.

Numbers and their sources (core.telegram.org/bots/api unless said otherwise):
- text 1-4096 characters after entities parsing: sendMessage / editMessageText, `text`.
- caption 0-1024 characters after entities parsing: sendPhoto / sendDocument / InputMediaPhoto, `caption`.
- HTML parse mode: "Formatting options", HTML style — the tags below, `&lt; &gt; &amp; &quot;` and numeric
  entities only; every other `<`, `>`, `&` must be escaped; tags must nest and close.
- callback_data 1-64 bytes: InlineKeyboardButton.
- 2-10 items: sendMediaGroup, `media`.
- photo at most 10 MB, width + height at most 10000, ratio at most 20: sendPhoto, `photo`.
- command 1-32 of a-z 0-9 _, description 1-256 (3-256 before Bot API 7.x), at most 100: BotCommand,
  setMyCommands.
Characters are counted as Python code points (the docs do not say UTF-16 units; castbot's own limits
use the same count).
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from typing import Any

from PIL import Image

from tests.fakes.telegram.wire import ApiError

MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_CALLBACK_BYTES = 64
ALBUM_MIN, ALBUM_MAX = 2, 10
MAX_PHOTO_BYTES = 10 * 1024 * 1024
MAX_PHOTO_SIDES = 10_000
MAX_PHOTO_RATIO = 20
MAX_COMMANDS = 100
MAX_COMMAND_DESCRIPTION = 256
NOT_MODIFIED = ("Bad Request: message is not modified: specified new message content and reply markup are "
                "exactly the same as a current content and reply markup of the message")

# tag -> the entity it makes (aliases collapse, so <b> and <strong> are the same content)
_TAGS = {"b": "bold", "strong": "bold", "i": "italic", "em": "italic", "u": "underline", "ins": "underline",
         "s": "strikethrough", "strike": "strikethrough", "del": "strikethrough", "tg-spoiler": "spoiler",
         "span": "spoiler", "a": "text_link", "code": "code", "pre": "pre", "blockquote": "blockquote",
         "tg-emoji": "custom_emoji"}
_TAG_RE = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)((?:\s[^<>]*)?)>")
_ENTITY_RE = re.compile(r"&(lt|gt|amp|quot|#\d+|#x[0-9a-fA-F]+);")
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_COMMAND_RE = re.compile(r"[a-z0-9_]{1,32}")


@dataclass(frozen=True)
class Parsed:
    """What Telegram keeps of a formatted text: the visible characters and the entities over them."""

    text: str
    entities: tuple[tuple[str, int, int, str], ...]  # (type, offset, length, attribute)


def _byte_offset(text: str, i: int) -> int:
    return len(text[:i].encode())


def _open_tag(text: str, i: int, tag: str, attrs: str) -> str:
    """The attribute an entity keeps (href, emoji id) — or a refusal for a tag Telegram does not take."""
    if tag not in _TAGS:
        raise _parse_error(f'Unsupported start tag "{tag}" at byte offset {_byte_offset(text, i)}')
    if tag == "span" and "tg-spoiler" not in attrs:
        raise _parse_error(f'Tag "span" must have class "tg-spoiler" at byte offset {_byte_offset(text, i)}')
    if tag == "a":
        match = re.search(r"""href\s*=\s*["']([^"']*)["']""", attrs)
        if match is None:
            return ""  # Telegram drops a link without href, keeping its text
        return match.group(1)
    if tag == "tg-emoji" and "emoji-id" not in attrs:
        raise _parse_error(f'Tag "tg-emoji" must have attribute "emoji-id" at byte offset {_byte_offset(text, i)}')
    return attrs.strip()


def parse_html(text: str) -> Parsed:
    """Parse Telegram HTML the way the Bot API does, or raise its "can't parse entities" refusal."""
    out: list[str] = []
    entities: list[tuple[str, int, int, str]] = []
    stack: list[tuple[str, int, str]] = []  # (tag, visible offset where it opened, attribute)
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "<":
            match = _TAG_RE.match(text, i)
            if match is None:
                raise _parse_error(f'Unsupported start tag "" at byte offset {_byte_offset(text, i)}')
            closing, tag, attrs = match.group(1), match.group(2).lower(), match.group(3)
            visible = len("".join(out))
            if closing:
                if not stack or stack[-1][0] != tag:
                    expected = f'"</{stack[-1][0]}>"' if stack else "nothing"
                    raise _parse_error(f"Unmatched end tag at byte offset {_byte_offset(text, i)}, expected "
                                       f'{expected}, found "</{tag}>"')
                opened, start, attr = stack.pop()
                if visible > start:
                    entities.append((_TAGS[opened], start, visible - start, attr))
            else:
                stack.append((tag, visible, _open_tag(text, i, tag, attrs)))
            i = match.end()
        elif ch == "&":
            match = _ENTITY_RE.match(text, i)
            if match is None:
                raise _parse_error(f"Character entity expected at byte offset {_byte_offset(text, i)}")
            out.append(_entity_char(text, i, match.group(1)))
            i = match.end()
        elif ch == ">":
            raise _parse_error(f"Unexpected end of tag at byte offset {_byte_offset(text, i)}")
        else:
            out.append(ch)
            i += 1
    if stack:
        raise _parse_error(f'Can\'t find end tag corresponding to start tag "{stack[-1][0]}"')
    return Parsed("".join(out), tuple(sorted(entities, key=lambda e: (e[1], -e[2]))))


def _entity_char(text: str, i: int, name: str) -> str:
    if name in _NAMED:
        return _NAMED[name]
    try:
        return chr(int(name[2:], 16) if name[1:2] == "x" else int(name[1:]))
    except (ValueError, OverflowError):
        raise _parse_error(f"Invalid character entity at byte offset {_byte_offset(text, i)}") from None


def _parse_error(problem: str) -> ApiError:
    return ApiError(400, f"Bad Request: can't parse entities: {problem}")


def formatted(params: dict[str, Any], key: str) -> Parsed:
    """A text or caption as Telegram stores it: HTML parsed when parse_mode says so, else as sent."""
    raw = str(params.get(key) or "")
    if str(params.get("parse_mode") or "").upper() == "HTML":
        return parse_html(raw)
    return Parsed(raw, ())


def check_text(parsed: Parsed) -> None:
    if not parsed.text.strip():
        raise ApiError(400, "Bad Request: message text is empty")
    if len(parsed.text) > MAX_TEXT:
        raise ApiError(400, "Bad Request: message is too long")


def check_caption(parsed: Parsed) -> None:
    if len(parsed.text) > MAX_CAPTION:
        raise ApiError(400, "Bad Request: message caption is too long")


def check_markup(markup: Any) -> None:
    """Inline buttons: callback_data 1-64 bytes."""
    if not isinstance(markup, dict):
        return
    for row in markup.get("inline_keyboard", []):
        for button in row:
            data = button.get("callback_data")
            if data is not None and not 1 <= len(str(data).encode()) <= MAX_CALLBACK_BYTES:
                raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")


def check_album(media: Any) -> list[dict[str, Any]]:
    if not isinstance(media, list) or not ALBUM_MIN <= len(media) <= ALBUM_MAX:
        raise ApiError(400, "Bad Request: media must contain 2-10 items")  # wording of the docs' rule
    return media


def photo_size(data: bytes) -> tuple[int, int]:
    """Check a photo upload against sendPhoto's limits; returns (width, height)."""
    if len(data) > MAX_PHOTO_BYTES:
        raise ApiError(400, "Bad Request: PHOTO_SAVE_FILE_INVALID")
    try:
        with Image.open(io.BytesIO(data)) as im:
            width, height = im.size
    except (OSError, ValueError, Image.DecompressionBombError):
        raise ApiError(400, "Bad Request: IMAGE_PROCESS_FAILED") from None
    if width + height > MAX_PHOTO_SIDES or max(width, height) > MAX_PHOTO_RATIO * min(width, height):
        raise ApiError(400, "Bad Request: PHOTO_INVALID_DIMENSIONS")
    return width, height


def check_commands(commands: Any) -> None:
    if not isinstance(commands, list) or len(commands) > MAX_COMMANDS:
        raise ApiError(400, "Bad Request: too many commands")
    for command in commands:
        if not _COMMAND_RE.fullmatch(str(command.get("command", ""))):
            raise ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
        if not 1 <= len(str(command.get("description", ""))) <= MAX_COMMAND_DESCRIPTION:
            raise ApiError(400, "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID")
