"""Plain-text renderings of core views for the terminal. No rich markup here: piped output stays clean."""

from __future__ import annotations

import time

from core.statustext import duration
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
    return "\n".join(lines)


def history_text(jobs: list[JobView]) -> str:
    if not jobs:
        return "history: no jobs yet"
    lines = [f"history ({len(jobs)}):"]
    for job in jobs:
        prompt = f" “{job.prompt[:40]}”" if job.prompt else ""
        count = f", {len(job.outputs)} image(s)" if job.outputs else ""
        lines.append(f"  {short_id(job.job_id)} {job.model} {state_word(job)}{count}, cost {job.cost}{prompt}")
    return "\n".join(lines)


def character_line(character: CharacterView) -> str:
    description = f" — {character.description}" if character.description else ""
    return f"{character.name}{description}"


def characters_text(characters: list[CharacterView]) -> str:
    if not characters:
        return "no saved characters yet: /character save NAME ./photo.png"
    return "characters:\n" + "\n".join(f"  {character_line(c)}" for c in characters)


def stats_text(stats: StatsView) -> str:
    states = ", ".join(f"{state} {count}" for state, count in sorted(stats.jobs_by_state.items())) or "no jobs"
    return (f"stats: {stats.users} user(s), {stats.characters} character(s), "
            f"{stats.units_spent} unit(s) spent; jobs: {states}")
