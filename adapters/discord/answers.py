"""Core's typed answers as Discord Markdown. No I/O here.

Everything a user typed (prompts, names, descriptions) is escaped; our own words carry the markup. A long
answer drops whole lines, never half a line, so no `**` or backtick is left open; lists come paged from
core and say how to get the next page.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from adapters.discord.render import MAX_MESSAGE, plain
from core.commands import answers as a
from core.commands.forget import forgotten_text, preview_text
from core.moderation.logtext import REPORTED, log_lines, removed_text
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
    if q.personal_cap is not None:
        binding = " (this is what limits you now)" if q.capped_by_operator else ""
        lines.append(f"**Bot-wide limit:** {q.personal_cap} units per person per 24 h, all servers and DMs{binding}")
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


def labelled(*pairs: tuple[str, object]) -> str:
    """`**Label:** value` lines: how Discord answers show a record."""
    return "\n".join(f"**{label}:** {value}" for label, value in pairs)


def stats_text(stats: StatsView) -> str:
    jobs = ", ".join(f"{k} {v}" for k, v in sorted(stats.jobs_by_state.items()))
    return labelled(("Jobs", jobs or "none"), ("Units spent", stats.units_spent), ("Users", stats.users),
                    ("Characters", stats.characters))


def policy_text(p: a.PolicyUpdated) -> str:
    return "Quota policy updated:\n" + labelled(
        ("Daily units per member", p.daily_units),
        ("Community pool", "off" if p.pool_units is None else f"{p.pool_units} units a day"),
        ("Window", f"{p.window} ({plain(p.timezone)})"), ("Characters allowed", p.character_limit),
        ("Admins unlimited", "yes" if p.unlimited_admins else "no"))


def consent_text(answer: a.ConsentNeeded) -> str:
    if answer.job_id:  # from a result: no slash form to repeat, the button is the way
        return (f"Not saved. Only save a face you have the right to use. If you may use this one as "
                f"**{plain(answer.name)}**, press **I may use this face**.")
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
        lines.append(f"**{model.key}**: {model.summary}. Cost: {model.price}.")
        lines += [f"• {image}" for image in model.images]
        for option in model.options:
            default = f", default {option.default}" if option.default else ""
            lines.append(f"• {option.name}: {option.what or 'option'} — {option.allowed}{default}")
    return fit(lines)


def saved_text(answer: a.CharacterSaved) -> str:
    name = plain(answer.view.name)
    return f"💾 Saved character **{name}**. Use it with `/imagine character:{name}`."


def filter_text(answer: a.FilterChanged) -> str:
    return answer.text(lambda value: f"**{plain(value, 80)}**")  # escaped, not in a code span: shown as typed


def filters_text(page: a.FilterPage) -> str:
    more = f"More: `/admin filter action:list page:{page.page + 1}`"
    return fit(page.lines(lambda value: plain(value, 80), more))


def log_text(page: a.LogPage) -> str:
    """Admins only, sent ephemeral: every line is user text (prompts, names), so all of it is escaped."""
    filters = (f" user:{page.user_id}" if page.user_id else "") + (f" since:{page.since}" if page.since else "")
    lines = log_lines(page, next_page=f"/admin log{filters} page:{{page}}")
    return fit([*map(plain, lines[:-1]), f"`{lines[-1]}`" if page.has_more else plain(lines[-1])])


def ban_text(answer: a.BanChanged) -> str:
    return f"<@{answer.user_id}> is now {'banned from' if answer.banned else 'allowed to use'} castbot here."


_TEXT: dict[type, Callable[[Any], str]] = {  # answer type -> its Discord text
    a.HistoryPage: history_text,
    a.CharacterPage: characters_text,
    a.CharacterShown: lambda x: character_line(x.view),
    a.CharacterSaved: saved_text,
    a.ConsentNeeded: consent_text,
    a.Renamed: lambda x: f"Renamed **{plain(x.old_name)}** to **{plain(x.view.name)}**.",
    a.Deleted: lambda x: f"Deleted **{plain(x.name)}**.",
    a.Cancelled: lambda x: f"Cancelled job `{x.view.job_id}`; nothing was charged.",
    a.PolicyUpdated: policy_text,
    a.BanChanged: ban_text,
    a.Stats: lambda x: stats_text(x.stats),
    a.RatingShown: lambda x: "\n".join(plain(line) for line in x.lines()),
    a.FilterChanged: filter_text,
    a.FilterPage: filters_text,
    a.OutputDeleted: lambda x: plain(removed_text(x)),
    a.Reported: lambda x: REPORTED,
    a.LogPage: log_text,
    a.OriginalFiles: lambda x: f"Job `{x.job_id}`: {len(x.images)} original file(s).",
    a.HelpAnswer: help_text,
    a.JobAccepted: lambda x: f"Job `{x.view.job_id}` accepted.",
    a.ForgetPreview: lambda x: plain(preview_text(x, "run /forget_me with confirm: True")),
    a.Forgotten: lambda x: plain(forgotten_text(x)),
}


def answer_text(answer: a.Answer, *, asker: str = "") -> str:
    """The reply for every answer that is text (a started job's status is the messenger's). `asker` is the
    user's id: a quota that is someone else's (an admin asked) names whose it is."""
    if isinstance(answer, a.QuotaShown):
        return quota_text(answer.quota, whose="" if answer.user_id == asker else f"<@{answer.user_id}>")
    render = _TEXT.get(type(answer))
    if render is None:
        raise TypeError(f"no Discord text for {answer!r}")
    return render(answer)
