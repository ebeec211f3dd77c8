"""The audit trail and reports: `/admin log`, the Report button, and an admin's removal (with a ban) in one step.

`/admin log` merges the community's jobs (who, where, prompt, model, outcome) with the moderation log
(refusals, withheld images, reports, removals, bans), newest first, for admins only: it is the one place
castbot shows a prompt to someone other than its author, and adapters show it privately.

A report is a member telling the admins about a result: recorded once per member and job (a flood of
presses writes one row, and a day's reports per member are capped), and the reporter learns nothing but
"reported" — not who made the job, not its prompt, not whether someone else reported it first.

Removal is the one delete path, for the owner's Delete button and an admin's `/admin remove JOB [--ban]`
alike: the result's messages go on the platform (through its Messenger), then the stored files and rows;
an admin removing someone else's result, and any ban, is written to the moderation log.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from core.commands import answers as a
from core.commands import types as c
from core.errors import BadOptionValue, Conflict, NotAllowed, OptionOutOfRange, UnknownUser
from core.jobs.messenger import MessageRemover
from core.jobs.outputs import output_folder
from core.permissions import Action
from core.store.auditlog import MAX_ROWS, AuditStore, LogJob
from core.store.modlog import ModEvent, ModLog

if TYPE_CHECKING:
    from core.service import CastService
    from core.store.database import Database
    from core.types import Actor, Place

MAX_LOG_PAGE = 15  # page x size stays within one read of each log; older: narrow with since/user, or the CSV
REPORTS_PER_DAY = 30  # reports one member may send in a day, over all jobs
MAX_SINCE_DAYS = 3650
EVENT_BATCH = 200  # ModLog's largest read
MAX_EXPORT_BATCHES = 10_000  # 5 million jobs: far beyond any community, but never an endless loop
_UNITS = {"m": 60, "h": 3600, "d": 86_400, "w": 7 * 86_400}
_RELATIVE = re.compile(r"^(\d{1,5})\s*([mhdw])$", re.IGNORECASE)
SINCE_FORMS = "like 2h, 3d, 1w or a date like 2026-12-01"


def parse_since(text: str, now: float) -> float:
    """`2h` / `3d` / `1w` / `30m` before now, or an ISO date or date-time (UTC unless it says otherwise)."""
    raw = text.strip()
    match = _RELATIVE.match(raw)
    if match:
        seconds = int(match[1]) * _UNITS[match[2].lower()]
        return now - min(seconds, MAX_SINCE_DAYS * 86_400)
    try:
        when = datetime.fromisoformat(raw)
    except ValueError:
        raise BadOptionValue(model="", option="since", kind="a time", expected=SINCE_FORMS, value=raw) from None
    return (when if when.tzinfo else when.replace(tzinfo=UTC)).timestamp()


def job_entry(job: LogJob) -> a.LogEntry:
    outcome = job.state if not job.error else f"{job.state}: {job.error}"
    return a.LogEntry(at=job.created_at, kind="job", user_id=job.user_id, user_name=job.user_name,
                      chat_id=job.chat_id, job_id=job.job_id, model=job.model, prompt=job.prompt, outcome=outcome)


def event_entry(event: ModEvent) -> a.LogEntry:
    return a.LogEntry(at=event.created_at, kind=event.kind, user_id=event.user_id, job_id=event.job_id or "",
                      outcome=event.detail, actor_id=event.actor_id)


async def log_entries(db: Database, *, scope_id: str, platform: str | None = None, user_id: str | None = None,
                      since: float | None = None, limit: int = 20) -> list[a.LogEntry]:
    """Jobs and moderation events of a community, newest first (events first on a tie: they follow a job)."""
    jobs = await AuditStore(db).jobs(scope_id=scope_id, platform=platform, user_id=user_id, since=since,
                                     limit=limit)
    events = await ModLog(db).events(scope_id=scope_id, platform=platform, user_id=user_id, since=since,
                                     limit=limit)
    merged = [*map(event_entry, events), *map(job_entry, jobs)]
    merged.sort(key=lambda e: e.at, reverse=True)  # stable: ties keep events before jobs
    return merged[:limit]


async def all_log_entries(db: Database, *, scope_id: str, platform: str | None = None, user_id: str | None = None,
                          since: float | None = None) -> list[a.LogEntry]:
    """Every entry (the CSV export), newest first, read in bounded batches."""
    jobs: list[a.LogEntry] = []
    for _ in range(MAX_EXPORT_BATCHES):
        batch = await AuditStore(db).jobs(scope_id=scope_id, platform=platform, user_id=user_id, since=since,
                                          limit=MAX_ROWS, offset=len(jobs))
        jobs += map(job_entry, batch)
        if len(batch) < MAX_ROWS:
            break
    events: list[a.LogEntry] = []
    before: int | None = None
    for _ in range(MAX_EXPORT_BATCHES):
        found = await ModLog(db).events(scope_id=scope_id, platform=platform, user_id=user_id, since=since,
                                        limit=EVENT_BATCH, before_id=before)
        events += map(event_entry, found)
        if len(found) < EVENT_BATCH:
            break
        before = found[-1].event_id
    return sorted([*events, *jobs], key=lambda e: e.at, reverse=True)


class AuditDesk:
    """What the router calls for /admin log, Report and removals; permissions through the service's one check."""

    def __init__(self, service: CastService) -> None:
        self.service = service
        self.store = service.store
        self.audit = AuditStore(service.store)
        self.modlog = ModLog(service.store)

    async def log(self, actor: Actor, place: Place, command: c.AdminLog, *, page_size: int) -> a.LogPage:
        await self.service.authorize(Action.ADMIN_LOG, actor, place, owner_id=None)
        user_id = None
        if command.user is not None:
            if not command.user.resolved:
                raise UnknownUser(text=command.user.text)
            user_id = command.user.user_id
        if command.page > MAX_LOG_PAGE:
            raise OptionOutOfRange(model="", option="page", minimum=1, maximum=MAX_LOG_PAGE, value=command.page)
        since = parse_since(command.since, self.store.clock.now()) if command.since else None
        found = await log_entries(self.store, scope_id=place.scope_id, platform=actor.platform, user_id=user_id,
                                  since=since, limit=command.page * page_size + 1)
        start = (command.page - 1) * page_size
        return a.LogPage(tuple(found[start:start + page_size]), command.page, len(found) > start + page_size,
                         user_id=user_id, since=command.since)

    async def report(self, actor: Actor, place: Place, job_id: str) -> a.Reported:
        job = await self.service.job_for(Action.REPORT, actor, place, job_id)
        outcome = await self.audit.report_once(scope_id=place.scope_id, platform=actor.platform, job_id=job_id,
                                               user_id=job.user_id, actor_id=actor.user_id,
                                               now=self.store.clock.now(), day_cap=REPORTS_PER_DAY)
        if outcome == "cap":
            raise Conflict(f"You have sent {REPORTS_PER_DAY} reports today; the admins have them. Thank you.")
        return a.Reported(job_id)  # a repeat reads the same: nothing about earlier reports leaks

    async def remove(self, actor: Actor, place: Place, job_id: str, *, ban: bool = False) -> a.OutputDeleted:
        job = await self.service.job_for(Action.DELETE_OUTPUT, actor, place, job_id)
        if ban:  # checked before anything goes: a refused ban removes nothing either
            await self.service.authorize(Action.ADMIN_BAN, actor, place, owner_id=None)
            if job.user_id == actor.user_id:
                raise NotAllowed("You can't ban yourself.", action=Action.ADMIN_BAN.value)
        refs = await self.audit.messages(job_id)
        messenger = self.service.engine.messenger(actor.platform)  # deletes through the platform's own Messenger
        removed = await messenger.remove(refs) if refs and isinstance(messenger, MessageRemover) else 0
        await self.audit.drop_results(job_id)
        await asyncio.to_thread(_delete_files, job.outputs, output_folder(self.service.data_dir, job_id))
        now = self.store.clock.now()
        if actor.user_id != job.user_id:
            await self.modlog.record(scope_id=place.scope_id, platform=actor.platform, kind="output_deleted",
                                     now=now, user_id=job.user_id, actor_id=actor.user_id, job_id=job_id)
        if ban:
            await self.store.set_ban(scope_id=place.scope_id, platform=actor.platform, user_id=job.user_id,
                                     banned=True)
            await self.modlog.record(scope_id=place.scope_id, platform=actor.platform, kind="ban", now=now,
                                     user_id=job.user_id, actor_id=actor.user_id, job_id=job_id)
        return a.OutputDeleted(job_id, messages=removed, banned_user=job.user_id if ban else None,
                               left=len(refs) - removed)


def _delete_files(paths: Sequence[str], folder: Path) -> None:
    for path in paths:
        Path(path).unlink(missing_ok=True)
    with contextlib.suppress(OSError):
        folder.rmdir()  # only when nothing else is in it
