"""Plain Discord markdown for job status, results, quota and history. No I/O here."""

from __future__ import annotations

from datetime import UTC, datetime

from core.statustext import duration
from core.statustext import progress_bar as bar
from core.types import CharacterView, JobState, JobView, QuotaView

MAX_MESSAGE = 2000


def progress_bar(fraction: float) -> str:
    return f"{bar(fraction)} {round(min(1.0, max(0.0, fraction)) * 100)}%"


def status_text(view: JobView) -> str:
    """One status message; identical views render identically, so unchanged status is never re-sent."""
    head = f"**{view.model}** · job `{view.job_id}`"
    prompt = f"\n> {_clip(view.prompt, 300)}" if view.prompt else ""
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
    elif state == JobState.EXPIRED:
        body = f"⌛ The results expired before they could be fetched — nothing was charged. {view.error or ''}"
    else:
        body = f"❌ Failed — nothing was charged. {view.error or ''}"
    return _clip(f"{head}{prompt}\n{body.strip()}", MAX_MESSAGE)


def result_caption(view: JobView, *, mention: int | None = None, part: int = 1, parts: int = 1) -> str:
    who = f"<@{mention}> " if mention else ""
    seed = f" · seed {view.seed}" if view.seed is not None else ""
    more = f" ({part}/{parts})" if parts > 1 else ""
    return _clip(f"{who}✅ **{view.model}**{seed}{more}\n> {_clip(view.prompt, 300)}", MAX_MESSAGE)


def quota_text(q: QuotaView) -> str:
    if q.banned:
        return "You are banned from generating here. Ask a server admin if you think this is a mistake."
    left = "unlimited" if q.balance is None else f"{q.balance} units"
    lines = [f"**Left:** {left}", f"**Used today:** {q.used_today} of {q.daily_units}"]
    if q.held:
        lines.append(f"**Reserved by running jobs:** {q.held}")
    if q.pool_balance is not None:
        lines.append(f"**Community pool:** {q.pool_balance}")
    if q.resets_at:
        lines.append(f"**Resets:** <t:{int(q.resets_at)}:R>")
    return "\n".join(lines)


def history_text(views: list[JobView]) -> str:
    if not views:
        return "You have no jobs here yet. Try `/imagine`."
    lines = [f"`{v.job_id}` {v.state.value} · {v.model} · {_clip(v.prompt, 60)}" for v in views]
    return _clip("\n".join(lines), MAX_MESSAGE)


def character_line(c: CharacterView) -> str:
    when = datetime.fromtimestamp(c.created_at, UTC).strftime("%Y-%m-%d") if c.created_at else ""
    desc = f" — {_clip(c.description, 80)}" if c.description else ""
    return f"**{c.name}**{desc} · by <@{c.owner_id}> {when}".rstrip()


def characters_text(chars: list[CharacterView]) -> str:
    if not chars:
        return "No saved characters here yet. Save one with `/character save`."
    return _clip("\n".join(character_line(c) for c in chars), MAX_MESSAGE)


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
