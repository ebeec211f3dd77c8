"""Text castbot shows on Telegram: status lines and captions. HTML parse mode, so user text is escaped.

Core's answers (quota, history, lists) are rendered in adapters.telegram.replies.
"""

from __future__ import annotations

import html
import re

from core.statustext import cost_text, duration, progress_bar
from core.types import JobState, JobView

MAX_CAPTION = 1024
MAX_TEXT = 4096

_STATE_LINES = {
    JobState.ACCEPTED: "⏳ Queued",
    JobState.SUBMITTED: "📨 Sent to the renderer",
    JobState.RUNNING: "🎨 Rendering",
    JobState.COMPLETED: "📦 Finishing",
    JobState.DELIVERED: "✅ Done",
    JobState.FAILED: "⚠️ Failed",
    JobState.CANCELLED: "✖ Cancelled",
    JobState.EXPIRED: "⌛ Expired",
    JobState.WITHHELD: "🛡️ Not posted",
}


def escape(text: str) -> str:
    return html.escape(text, quote=False)


def clip(text: str, limit: int) -> str:
    """Plain text cut to `limit` characters; HTML goes through `fit` or `pages` instead."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


# a tag, a character entity, or one visible character: the units an HTML cut may fall between
_TOKEN_RE = re.compile(r"<[^<>]*>|&#?[0-9A-Za-z]+;|.", re.DOTALL)


def visible_length(text: str) -> int:
    """Characters Telegram counts after parsing our HTML (tags count nothing, an entity one)."""
    return sum(0 if t.startswith("<") else 1 for t in _TOKEN_RE.findall(text))


def _cut(text: str, limit: int) -> tuple[int, list[str]]:
    """Where a page of at most `limit` visible characters ends, and the tags still open there.

    Prefers the last line break outside any tag, then the last point outside any tag, as long as that
    keeps at least half a page; otherwise cuts inside a span, whose tags the caller closes and reopens.
    """
    visible, stack = 0, []
    newline = boundary = (0, 0)  # (position, visible characters before it)
    inner, inner_stack = 0, []
    for match in _TOKEN_RE.finditer(text):
        token = match.group()
        if token.startswith("</"):
            if stack:
                stack.pop()
        elif token.startswith("<"):
            stack.append(token)
        else:
            if visible == limit:
                break
            if token == "\n" and not stack:
                newline = (match.start(), visible)
            visible += 1
        if not stack:
            boundary = (match.end(), visible)
        inner, inner_stack = match.end(), list(stack)
    for position, kept in (newline, boundary):
        if kept >= limit // 2:
            return position, []
    return inner, inner_stack


def _closing(opened: list[str]) -> str:
    return "".join(f"</{tag[1:].split()[0].rstrip('>')}>" for tag in reversed(opened))


def pages(text: str, limit: int = 4096, *, most: int = 5) -> list[str]:
    """Our HTML in pages of at most `limit` visible characters, each cut between tags and entities.

    At most `most` pages; the last one ends in "…" when text was left out.
    """
    out: list[str] = []
    rest = text
    while visible_length(rest) > limit:
        if len(out) == most - 1:
            return [*out, fit(rest, limit)]
        cut, opened = _cut(rest, limit)
        out.append(rest[:cut].rstrip() + _closing(opened))
        rest = "".join(opened) + rest[cut:].lstrip("\n")
    return [*out, rest]


def fit(text: str, limit: int) -> str:
    """Our HTML within `limit` visible characters: cut between tags and entities, ending in "…"."""
    if visible_length(text) <= limit:
        return text
    cut, opened = _cut(text, limit - 1)
    return text[:cut].rstrip() + _closing(opened) + "…"


def status_text(view: JobView) -> str:
    """The live status message of one job."""
    lines = [f"<b>{_STATE_LINES.get(view.state, view.state)}</b> · {escape(view.model)}"]
    if cost := cost_text(view):
        lines.append(cost)
    if view.state == JobState.ACCEPTED and view.position:
        lines.append(f"Position in queue: {view.position}")
    if not view.state.is_final:
        eta = f" · about {duration(view.eta)} left" if view.eta else ""
        lines.append(f"{progress_bar(view.progress)} {duration(view.elapsed)}{eta}")
    if view.state == JobState.DELIVERED:
        lines.append(f"{len(view.outputs) or 'The'} image(s) below · {duration(view.elapsed)}")
    if view.error:
        lines.append(escape(view.error))
    if view.prompt:
        lines.append(f"<i>{escape(clip(view.prompt, 300))}</i>")
    return fit("\n".join(lines), MAX_TEXT)


def result_caption(view: JobView) -> str:
    """Caption under delivered images: prompt and seed, within Telegram's 1024-character limit."""
    tail = f"\n{escape(view.model)}" + (f" · seed {view.seed}" if view.seed is not None else "")
    room = MAX_CAPTION - len(tail)
    limit = room
    prompt = escape(view.prompt)
    for _ in range(12):  # escaping grows text; cut the raw prompt by the excess until it fits
        if len(prompt) <= room:
            break
        limit = min(limit - 1, limit * room // len(prompt))
        prompt = escape(clip(view.prompt, max(1, limit)))
    if len(prompt) > room:
        prompt = ""  # never reached in practice; a caption Telegram refuses would lose the images
    return (prompt + tail).strip()
