"""Core's typed answers as Telegram HTML, and the Telegram way of saying core's words (its Phrasing).

Lists arrive as core's pages, short enough for one message, so each page is rendered whole: a cut can
never fall inside our markup. User text is escaped and clipped field by field, never the finished HTML.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from adapters.telegram.render import clip, escape
from core.commands import answers as a
from core.commands.forget import forgotten_text, preview_text
from core.commands.help import help_lines
from core.moderation.logtext import REPORTED, log_lines, removed_text, text_next_page
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
def sent_privately(why: str) -> str:
    return f"I sent you the answer in our private chat ({why}, so not here)."


def private_chat_needed(why: str) -> str:
    return (f"I send this answer privately ({why}), but I can't write to you first: open a private chat with me, "
            "press Start, then send the command here again.")


PHOTOS_HINT = ("Photos: send the command as a photo's caption, reply to a photo with it, or send an album "
               "(character first) captioned with it.")

_STATE_WORDS = {
    JobState.ACCEPTED: "⏳ queued", JobState.SUBMITTED: "📨 sent", JobState.RUNNING: "🎨 rendering",
    JobState.COMPLETED: "📦 finishing", JobState.DELIVERED: "✅ done", JobState.FAILED: "⚠️ failed",
    JobState.CANCELLED: "✖ cancelled", JobState.EXPIRED: "⌛ expired", JobState.WITHHELD: "🛡️ not posted",
}


_ONE_LINERS: dict[type, Callable[[Any], str]] = {
    a.CharacterSaved: lambda r: (f"Saved <b>{escape(r.view.name)}</b>. Try /imagine --char {escape(r.view.name)} "
                                 "in a forest"),
    a.ConsentNeeded: lambda r: ("Only save a face you have the right to use. Press the button to confirm you may "
                                f"use this face for <b>{escape(r.name)}</b>."),
    a.Renamed: lambda r: f"Renamed to <b>{escape(r.view.name)}</b>.",
    a.Deleted: lambda r: f"Deleted <b>{escape(r.name)}</b>.",
    a.Cancelled: lambda r: f"Cancelling <code>{escape(r.view.job_id)}</code>.",
    a.BanChanged: lambda r: f"User <code>{escape(r.user_id)}</code> {'banned' if r.banned else 'unbanned'}.",
    a.JobAccepted: lambda r: f"Accepted <code>{escape(r.view.job_id)}</code>.",
    a.RatingShown: lambda r: "\n".join(escape(line) for line in r.lines()),
    a.OutputDeleted: lambda r: escape(removed_text(r)),
    a.Reported: lambda r: escape(REPORTED),
    a.LogPage: lambda r: "\n".join(escape(line) for line in log_lines(r, next_page=text_next_page(r))),
    a.OriginalFiles: lambda r: f"{len(r.images)} original file(s).",
    a.CharacterShown: lambda r: character_caption(r.view.name, r.view.description),
    a.ForgetPreview: lambda r: escape(preview_text(r, "send /forget_me --confirm")),
    a.FilterChanged: lambda r: filter_html(r),
    a.FilterPage: lambda r: filters_html(r),
    a.Forgotten: lambda r: escape(forgotten_text(r)),
}


def answer_html(answer: a.Answer) -> str:
    """The message for an answer that is shown as text (a started job, a shown character and files are not)."""
    one_line = _ONE_LINERS.get(type(answer))
    if one_line is not None:
        return one_line(answer)
    match answer:
        case a.QuotaShown():
            return quota_html(answer)
        case a.HistoryPage():
            return history_html(answer)
        case a.CharacterPage():
            return characters_html(answer)
        case a.PolicyUpdated():
            return policy_html(answer)
        case a.Stats(stats=stats):
            states = ", ".join(f"{escape(str(k))}: {v}" for k, v in sorted(stats.jobs_by_state.items())) or "none"
            return (f"Jobs: {states}\nUnits spent: {stats.units_spent}\nUsers: {stats.users}\n"
                    f"Characters: {stats.characters}")
        case a.HelpAnswer():
            lines = [escape(line) for line in help_lines(answer)]
            return "\n".join([*lines, PHOTOS_HINT] if answer.topic is None else lines)
    raise TypeError(f"no Telegram text for {answer!r}")


def character_caption(name: str, description: str) -> str:
    return f"<b>{escape(name)}</b>\n{escape(clip(description, 900))}".strip()


def quota_html(shown: a.QuotaShown) -> str:
    q: QuotaView = shown.quota
    if q.banned:
        return "You are banned from generating here."
    resets = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(q.resets_at)) if q.resets_at else None
    rows = (("Units left", "unlimited" if q.balance is None else q.balance),
            ("Daily allowance", f"{q.daily_units} · used today: {q.used_today}"),
            ("Reserved by running jobs", q.held or None), ("Community pool", q.pool_balance), ("Resets at", resets))
    lines = [f"{label}: {value}" for label, value in rows if value is not None]
    if q.personal_cap is not None:
        binding = " (this is what limits you now)" if q.capped_by_operator else ""
        lines.append(f"Bot-wide limit: {q.personal_cap} units per person per 24 h, all groups and chats{binding}")
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


def filter_html(r: a.FilterChanged) -> str:
    return r.text(lambda value: f"<code>{escape(clip(value, 80))}</code>")


def filters_html(page: a.FilterPage) -> str:
    more = f"More: /admin filter list {page.page + 1}"
    return "\n".join(page.lines(lambda value: f"<code>{escape(clip(value, 80))}</code>", more))
