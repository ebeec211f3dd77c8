"""Plain-text renderings of core views for the terminal. No rich markup here: piped output stays clean."""

from __future__ import annotations

import time

from core.commands import answers as a
from core.commands.forget import forgotten_text, preview_text
from core.commands.help import help_lines
from core.moderation.logtext import REPORTED, log_lines, removed_text, text_next_page
from core.statustext import cost_text, duration
from core.types import CharacterView, JobState, JobView, QuotaView, StatsView

_STATE_WORDS = {
    JobState.ACCEPTED: "queued",
    JobState.SUBMITTED: "submitted",
    JobState.RUNNING: "running",
    JobState.COMPLETED: "downloading",
    JobState.DELIVERED: "done",
    JobState.FAILED: "failed",
    JobState.CANCELLED: "cancelled",
    JobState.EXPIRED: "expired",
    JobState.WITHHELD: "not posted",
}


def short_id(job_id: str) -> str:
    return job_id[:8]


def status_line(view: JobView) -> str:
    """`job 1a2b3c4d poses: queued · position 2 · eta 40s` — one line, changes only when the job does."""
    parts = [_STATE_WORDS.get(view.state, view.state.value)]
    if view.position is not None:
        parts.append(f"position {view.position}")
    if view.eta is not None and not view.state.is_final:
        parts.append(f"eta {duration(view.eta)}")
    if view.state.is_final:
        parts.append(f"after {duration(view.elapsed)}")
    if view.error:
        parts.append(view.error)
    return f"job {short_id(view.job_id)} {view.model}: " + " · ".join(parts)


def state_word(view: JobView) -> str:
    return _STATE_WORDS.get(view.state, view.state.value)


def quota_text(quota: QuotaView) -> str:
    if quota.banned:
        return "You are banned from generating here."
    balance = "unlimited" if quota.balance is None else f"{quota.balance} unit(s) left"
    lines = [f"quota: {balance}; used today {quota.used_today} of {quota.daily_units} a day; held {quota.held}"]
    if quota.resets_at:
        lines.append("resets at " + time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(quota.resets_at)))
    if quota.pool_balance is not None:
        lines.append(f"community pool: {quota.pool_balance} unit(s)")
    if quota.personal_cap is not None:
        binding = " (this is what limits you now)" if quota.capped_by_operator else ""
        lines.append(f"bot-wide limit: {quota.personal_cap} unit(s) per person per 24 h, all communities{binding}")
    return "\n".join(lines)


def history_text(jobs: list[JobView] | tuple[JobView, ...], *, page: int = 1, has_more: bool = False) -> str:
    if not jobs:
        return "history: no jobs yet" if page == 1 else f"history: no page {page}"
    lines = [f"history ({len(jobs)}{_page_note(page)}):"]
    for job in jobs:
        prompt = f" “{job.prompt[:40]}”" if job.prompt else ""
        count = f", {len(job.outputs)} image(s)" if job.outputs else ""
        lines.append(f"  {short_id(job.job_id)} {job.model} {state_word(job)}{count}, cost {job.cost}{prompt}")
    if has_more:
        lines.append(f"more: /history {page + 1}")
    return "\n".join(lines)


def character_line(character: CharacterView) -> str:
    description = f" — {character.description}" if character.description else ""
    return f"{character.name}{description}"


def characters_text(page: a.CharacterPage) -> str:
    if not page.characters:
        if page.page > 1:
            return f"no page {page.page} of characters"
        return "no saved characters yet: /character save NAME ./photo.png --consent"
    lines = [f"characters{_page_note(page.page)}:", *(f"  {character_line(c)}" for c in page.characters)]
    if page.has_more:
        prefix = f" {page.prefix}" if page.prefix else ""
        lines.append(f"more: /character list{prefix} --page {page.page + 1}")
    return "\n".join(lines)


def _page_note(page: int) -> str:
    return f", page {page}" if page > 1 else ""


def stats_text(stats: StatsView) -> str:
    states = ", ".join(f"{state} {count}" for state, count in sorted(stats.jobs_by_state.items())) or "no jobs"
    return (f"stats: {stats.users} user(s), {stats.characters} character(s), "
            f"{stats.units_spent} unit(s) spent; jobs: {states}")


def policy_text(p: a.PolicyUpdated) -> str:
    pool = "no pool" if p.pool_units is None else f"pool {p.pool_units} unit(s)"
    admins = "admins unlimited" if p.unlimited_admins else "admins counted like members"
    return (f"Quota policy updated: {p.daily_units} unit(s) a day per member, {pool}, {p.window} window in "
            f"{p.timezone}, up to {p.character_limit} characters, {admins}.")


def filters_text(page: a.FilterPage) -> str:
    lines = page.lines(lambda value: value, f"more: /admin filter list {page.page + 1}")
    return "\n".join([f"filters{_page_note(page.page)}:", *(f"  {line}" for line in lines)] if page.filters else lines)


def answer_text(answer: a.Answer) -> str:
    """Plain text for every answer except a started job, which the session follows to its end."""
    match answer:
        case a.QuotaShown(quota=quota):
            return quota_text(quota)
        case a.HistoryPage(jobs=jobs, page=page, has_more=more):
            return history_text(jobs, page=page, has_more=more)
        case a.CharacterPage():
            return characters_text(answer)
        case a.CharacterShown(view=view):
            return f"{character_line(view)}\n  image: {view.image_path}"
        case a.CharacterSaved(view=view):
            return f"saved character {view.name}: use it with /imagine --char {view.name} ..."
        case a.ConsentNeeded(name=name, job_id=job_id):
            line = f"--job {job_id} --consent" if job_id else "PATH --consent"
            return (f"not saved: only save a face you have the right to use. If you may use this one, "
                    f"send the same line with --consent (/character save {name} {line}).")
        case a.Renamed(old_name=old, view=view):
            return f"renamed {old} to {view.name}"
        case a.Deleted(name=name):
            return f"deleted {name}"
        case a.Cancelled(view=view):
            return status_line(view)
        case a.PolicyUpdated():
            return policy_text(answer)
        case a.BanChanged(user_id=user_id, banned=banned):
            return f"{user_id} is {'banned' if banned else 'no longer banned'} here."
        case a.Stats(stats=stats):
            return stats_text(stats)
        case a.RatingShown():
            return "\n".join(answer.lines())
        case a.FilterChanged():
            return answer.text(lambda value: value)
        case a.FilterPage():
            return filters_text(answer)
        case a.OutputDeleted():
            return removed_text(answer)
        case a.Reported():
            return REPORTED
        case a.LogPage():
            return "\n".join(log_lines(answer, next_page=text_next_page(answer)))
        case a.OriginalFiles(job_id=job_id, images=images):
            return f"job {short_id(job_id)}: {len(images)} original file(s)"
        case a.HelpAnswer():
            return "\n".join(help_lines(answer))
        case a.ForgetPreview():
            return preview_text(answer, "send /forget-me --confirm")
        case a.Forgotten():
            return forgotten_text(answer)
        case a.JobAccepted(view=view):
            return f"job {short_id(view.job_id)} accepted: {view.model} · {cost_text(view)}"
    raise TypeError(f"no console text for {answer!r}")
