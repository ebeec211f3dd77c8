"""Core's typed answers as Telegram HTML, and the Telegram way of saying core's words (its Phrasing).

Lists arrive as core's pages, short enough for one message, so each page is rendered whole: a cut can
never fall inside our markup. User text is escaped and clipped field by field, never the finished HTML.
"""

from __future__ import annotations

import time

from adapters.telegram.render import clip, escape
from core.commands import answers as a
from core.commands.help import help_lines
from core.phrasing import Phrasing
from core.types import JobState, QuotaView

PHRASING = Phrasing(
    platform="telegram",
    attach={
        "character": "send the photo with the command as its caption, or reply to a photo with the command",
        "pose": "send the pose image with the command (in an album after the character photo, if you send one)",
        "scene": "send the scene photo with the command (in an album after the character photo, if you send one)",
    },
    name_user="replying to one of their messages with the command, by their numeric id, or by an @username "
              "I have seen in this chat",
)
PHOTOS_HINT = ("Photos: send the command as a photo's caption, reply to a photo with it, or send an album "
               "(character first) captioned with it.")

_STATE_WORDS = {
    JobState.ACCEPTED: "⏳ queued", JobState.SUBMITTED: "📨 sent", JobState.RUNNING: "🎨 rendering",
    JobState.COMPLETED: "📦 finishing", JobState.DELIVERED: "✅ done", JobState.FAILED: "⚠️ failed",
    JobState.CANCELLED: "✖ cancelled", JobState.EXPIRED: "⌛ expired",
}


def answer_html(answer: a.Answer) -> str:
    """The message for an answer that is shown as text (a started job, a shown character and files are not)."""
    match answer:
        case a.QuotaShown():
            return quota_html(answer)
        case a.HistoryPage():
            return history_html(answer)
        case a.CharacterPage():
            return characters_html(answer)
        case a.CharacterSaved(view=view):
            name = escape(view.name)
            return f"Saved <b>{name}</b>. Try /imagine --char {name} in a forest"
        case a.ConsentNeeded(name=name):
            return (f"Only save a face you have the right to use. Press the button to confirm you may use this face "
                    f"for <b>{escape(name)}</b>.")
        case a.Renamed(view=view):
            return f"Renamed to <b>{escape(view.name)}</b>."
        case a.Deleted(name=name):
            return f"Deleted <b>{escape(name)}</b>."
        case a.Cancelled(view=view):
            return f"Cancelling <code>{escape(view.job_id)}</code>."
        case a.PolicyUpdated():
            return policy_html(answer)
        case a.BanChanged(user_id=user_id, banned=banned):
            return f"User <code>{escape(user_id)}</code> {'banned' if banned else 'unbanned'}."
        case a.Stats(stats=stats):
            states = ", ".join(f"{escape(str(k))}: {v}" for k, v in sorted(stats.jobs_by_state.items())) or "none"
            return (f"Jobs: {states}\nUnits spent: {stats.units_spent}\nUsers: {stats.users}\n"
                    f"Characters: {stats.characters}")
        case a.HelpAnswer():
            lines = [escape(line) for line in help_lines(answer)]
            return "\n".join([*lines, PHOTOS_HINT] if answer.topic is None else lines)
        case a.JobAccepted(view=view):
            return f"Accepted <code>{escape(view.job_id)}</code>."
        case a.OutputDeleted(job_id=job_id):
            return f"Deleted the images of <code>{escape(job_id)}</code>."
        case a.OriginalFiles(images=images):
            return f"{len(images)} original file(s)."
        case a.CharacterShown(view=view):
            return character_caption(view.name, view.description)
    raise TypeError(f"no Telegram text for {answer!r}")


def character_caption(name: str, description: str) -> str:
    return f"<b>{escape(name)}</b>\n{escape(clip(description, 900))}".strip()


def quota_html(shown: a.QuotaShown) -> str:
    quota: QuotaView = shown.quota
    if quota.banned:
        return "You are banned from generating here."
    left = "unlimited" if quota.balance is None else str(quota.balance)
    lines = [f"Units left: {left}", f"Daily allowance: {quota.daily_units} · used today: {quota.used_today}"]
    if quota.held:
        lines.append(f"Reserved by running jobs: {quota.held}")
    if quota.pool_balance is not None:
        lines.append(f"Community pool: {quota.pool_balance}")
    if quota.resets_at:
        lines.append("Resets at " + time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(quota.resets_at)))
    return "\n".join(lines)


def history_html(page: a.HistoryPage) -> str:
    if not page.jobs:
        return "No jobs yet. Try /imagine with a photo." if page.page == 1 else f"No page {page.page}."
    lines = [f"<code>{escape(v.job_id)}</code> {_STATE_WORDS.get(v.state, v.state)} · {escape(v.model)} · "
             f"{escape(clip(v.prompt, 40))}" for v in page.jobs]
    if page.has_more:
        lines.append(f"More: /history {page.page + 1}")
    return "\n".join(lines)


def characters_html(page: a.CharacterPage) -> str:
    if not page.characters:
        if page.page > 1:
            return f"No page {page.page} of characters."
        return "No saved characters here yet. Send a photo captioned /character save NAME --consent."
    lines = ["Characters:" if page.page == 1 else f"Characters, page {page.page}:"]
    lines += [f"• <b>{escape(c.name)}</b>" + (f" — {escape(clip(c.description, 60))}" if c.description else "")
              for c in page.characters]
    if page.has_more:
        prefix = f" {escape(page.prefix)}" if page.prefix else ""
        lines.append(f"More: /character list{prefix} --page {page.page + 1}")
    return "\n".join(lines)


def policy_html(p: a.PolicyUpdated) -> str:
    pool = "no community pool" if p.pool_units is None else f"a community pool of {p.pool_units}"
    admins = "admins unlimited" if p.unlimited_admins else "admins counted like members"
    return (f"Quota policy updated: {p.daily_units} unit(s) a day per member, {pool}, {escape(p.window)} window in "
            f"{escape(p.timezone)}, up to {p.character_limit} characters, {admins}.")
