"""Core's typed answers as Discord Markdown. No I/O here.

Everything a user typed (prompts, names, descriptions) is escaped; our own words carry the markup. A long
answer drops whole lines, never half a line, so no `**` or backtick is left open; lists come paged from
core and say how to get the next page.
"""

from __future__ import annotations

from datetime import UTC, datetime

from adapters.discord.render import MAX_MESSAGE, plain
from core.commands import answers as a
from core.types import CharacterView, QuotaView, StatsView


def fit(lines: list[str], limit: int = MAX_MESSAGE, *, more: str = "…") -> str:
    """Whole lines up to the limit; when some are left out, `more` says so on the last line."""
    kept: list[str] = []
    size = 0
    for number, line in enumerate(lines):
        rest = len(lines) - number
        budget = limit - size - (0 if rest == 1 else len(more) + 1)
        if len(line) + (1 if kept else 0) > budget:
            return "\n".join([*kept, more])
        kept.append(line)
        size += len(line) + (1 if len(kept) > 1 else 0)
    return "\n".join(kept)


def quota_text(q: QuotaView, *, whose: str = "") -> str:
    if q.banned:
        return f"{whose or 'You'} can't generate here (banned). Ask a server admin if this is a mistake."
    left = "unlimited" if q.balance is None else f"{q.balance} units"
    lines = [f"**Left:** {left}", f"**Used today:** {q.used_today} of {q.daily_units}"]
    if whose:
        lines.insert(0, f"Quota of {whose}:")
    if q.held:
        lines.append(f"**Reserved by running jobs:** {q.held}")
    if q.pool_balance is not None:
        lines.append(f"**Community pool:** {q.pool_balance}")
    if q.resets_at:
        lines.append(f"**Resets:** <t:{int(q.resets_at)}:R>")
    return "\n".join(lines)


def history_text(page: a.HistoryPage) -> str:
    if not page.jobs:
        return "You have no jobs here yet. Try `/imagine`." if page.page == 1 else f"No page {page.page}."
    lines = [f"`{v.job_id}` {v.state.value} · {v.model} · {plain(v.prompt, 60)}" for v in page.jobs]
    if page.has_more:
        lines.append(f"More: `/history page:{page.page + 1}`")
    return fit(lines)


def character_line(c: CharacterView) -> str:
    when = datetime.fromtimestamp(c.created_at, UTC).strftime("%Y-%m-%d") if c.created_at else ""
    desc = f" — {plain(c.description, 80)}" if c.description else ""
    return f"**{plain(c.name)}**{desc} · by <@{c.owner_id}> {when}".rstrip()


def characters_text(page: a.CharacterPage) -> str:
    if not page.characters:
        if page.page > 1:
            return f"No page {page.page} of characters."
        return "No saved characters here yet. Save one with `/character save`."
    lines = [character_line(c) for c in page.characters]
    if page.has_more:
        prefix = f" prefix:{plain(page.prefix)}" if page.prefix else ""
        lines.append(f"More: `/character list{prefix} page:{page.page + 1}`")
    return fit(lines)


def stats_text(stats: StatsView) -> str:
    states = ", ".join(f"{k} {v}" for k, v in sorted(stats.jobs_by_state.items())) or "none"
    return (f"**Jobs:** {states}\n**Units spent:** {stats.units_spent}\n**Users:** {stats.users}\n"
            f"**Characters:** {stats.characters}")


def policy_text(p: a.PolicyUpdated) -> str:
    pool = "off" if p.pool_units is None else f"{p.pool_units} units a day"
    return "\n".join([
        "Quota policy updated:", f"**Daily units per member:** {p.daily_units}", f"**Community pool:** {pool}",
        f"**Window:** {p.window} ({plain(p.timezone)})", f"**Characters allowed:** {p.character_limit}",
        f"**Admins unlimited:** {'yes' if p.unlimited_admins else 'no'}",
    ])


def consent_text(answer: a.ConsentNeeded) -> str:
    return (f"Not saved. Only save a face you have the right to use. If you may use this one, press "
            f"**I may use this face**, or send `/character save name:{plain(answer.name)}` again with "
            f"`consent:True`.")


def help_text(answer: a.HelpAnswer) -> str:
    """Help from core's data; its words are the catalog's, so only the markup is ours."""
    lines = list(answer.intro)
    if answer.topic is None:
        lines.append(f"**{answer.summary}**")
        lines += [f"`/{c.name}` — {c.summary}" for c in answer.commands if c.name != "start"]
        lines.append("Use `/help command:imagine` for a command's models and options.")
        return fit(lines)
    lines.append(f"`/{answer.topic}` — {answer.summary}")
    if not answer.models:
        lines += [f"`{u}`" for u in answer.usage]
    for model in answer.models:
        lines.append(f"**{model.key}**: {model.summary} ({model.units_per_image} unit(s) per image)")
        lines += [f"• {image}" for image in model.images]
        for option in model.options:
            default = f", default {option.default}" if option.default else ""
            lines.append(f"• {option.name}: {option.what or 'option'} — {option.allowed}{default}")
    return fit(lines)


def answer_text(answer: a.Answer, *, asker: str = "") -> str:
    """The reply for every answer that is text (a started job's status is the messenger's). `asker` is the
    user's id: a quota that is someone else's (an admin asked) names whose it is."""
    match answer:
        case a.QuotaShown(quota=quota, user_id=user_id):
            return quota_text(quota, whose="" if user_id == asker else f"<@{user_id}>")
        case a.HistoryPage():
            return history_text(answer)
        case a.CharacterPage():
            return characters_text(answer)
        case a.CharacterShown(view=view):
            return character_line(view)
        case a.CharacterSaved(view=view):
            return (f"💾 Saved character **{plain(view.name)}**. Use it with "
                    f"`/imagine character:{plain(view.name)}`.")
        case a.ConsentNeeded():
            return consent_text(answer)
        case a.Renamed(old_name=old, view=view):
            return f"Renamed **{plain(old)}** to **{plain(view.name)}**."
        case a.Deleted(name=name):
            return f"Deleted **{plain(name)}**."
        case a.Cancelled(view=view):
            return f"Cancelled job `{view.job_id}`; nothing was charged."
        case a.PolicyUpdated():
            return policy_text(answer)
        case a.BanChanged(user_id=user_id, banned=banned):
            verb = "banned from" if banned else "allowed to use"
            return f"<@{user_id}> is now {verb} castbot here."
        case a.Stats(stats=stats):
            return stats_text(stats)
        case a.OutputDeleted(job_id=job_id):
            return f"Deleted the images of job `{job_id}`."
        case a.OriginalFiles(job_id=job_id, images=images):
            return f"Job `{job_id}`: {len(images)} original file(s)."
        case a.HelpAnswer():
            return help_text(answer)
        case a.JobAccepted(view=view):
            return f"Job `{view.job_id}` accepted."
    raise TypeError(f"no Discord text for {answer!r}")
