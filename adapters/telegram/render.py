"""Text castbot shows on Telegram: status lines and captions. HTML parse mode, so user text is escaped.

Core's answers (quota, history, lists) are rendered in adapters.telegram.replies.
"""

from __future__ import annotations

import html

from core.statustext import duration, progress_bar
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
}


def escape(text: str) -> str:
    return html.escape(text, quote=False)


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def status_text(view: JobView) -> str:
    """The live status message of one job."""
    lines = [f"<b>{_STATE_LINES.get(view.state, view.state)}</b> · {escape(view.model)}"]
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
    return clip("\n".join(lines), MAX_TEXT)


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
