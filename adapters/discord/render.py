"""Discord markdown for a job's status message and result caption (the messenger's). No I/O here."""

from __future__ import annotations

import discord

from core.statustext import cost_text, duration
from core.statustext import progress_bar as bar
from core.types import JobState, JobView

MAX_MESSAGE = 2000


def plain(text: str, limit: int = 0) -> str:
    """User text shown as typed, never as markup; optionally shortened before escaping. Mentions in it stay
    readable and ping nobody: every send carries allowed_mentions none (the client's default too)."""
    if limit and len(text) > limit:
        text = text[: limit - 1] + "…"
    return discord.utils.escape_markdown(text)


def progress_bar(fraction: float) -> str:
    return f"{bar(fraction)} {round(min(1.0, max(0.0, fraction)) * 100)}%"


def status_text(view: JobView) -> str:
    """One status message; identical views render identically, so unchanged status is never re-sent."""
    cost = f" · {cost_text(view)}" if cost_text(view) else ""
    head = f"**{view.model}** · job `{view.job_id}`{cost}"
    prompt = f"\n> {plain(view.prompt, 300)}" if view.prompt else ""
    state = view.state
    if state == JobState.ACCEPTED:
        where = f"position {view.position} in the queue" if view.position else "about to start"
        body = f"⏳ Queued — {where} · {duration(view.elapsed)} elapsed"
    elif state in (JobState.SUBMITTED, JobState.RUNNING):
        eta = f" · about {duration(view.eta)} left" if view.eta is not None else ""
        body = f"🎨 Generating {progress_bar(view.progress)} · {duration(view.elapsed)} elapsed{eta}"
    elif state in (JobState.COMPLETED, JobState.DELIVERED):
        body = f"✅ Done in {duration(view.elapsed)}"
    elif state == JobState.CANCELLED:
        body = "🚫 Cancelled — nothing was charged."
    elif state == JobState.WITHHELD:
        body = f"🛡️ Not posted. {view.error or ''}"
    elif state == JobState.EXPIRED:
        body = f"⌛ The results expired before they could be fetched — nothing was charged. {view.error or ''}"
    else:
        body = f"❌ Failed — nothing was charged. {view.error or ''}"
    return _clip(f"{head}{prompt}\n{body.strip()}", MAX_MESSAGE)


def result_caption(view: JobView, *, mention: int | None = None, part: int = 1, parts: int = 1) -> str:
    who = f"<@{mention}> " if mention else ""
    seed = f" · seed {view.seed}" if view.seed is not None else ""
    more = f" ({part}/{parts})" if parts > 1 else ""
    return _clip(f"{who}✅ **{view.model}**{seed}{more}\n> {plain(view.prompt, 300)}", MAX_MESSAGE)


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
