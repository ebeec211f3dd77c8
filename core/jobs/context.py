"""Everything one job's run depends on, handed in explicitly by the engine (core.jobs.run never imports it).

The engine keeps the in-memory picture of its jobs and the admission slots; a run reaches them only
through the small `JobHost` protocol, so the run can be read, and driven, without the engine's insides.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from core.clock import Clock
from core.jobs.admission import Limits
from core.jobs.budget import RequestBudget
from core.jobs.messenger import Messenger
from core.jobs.polling import DurationModel, PollPlan
from core.moderation.gate import SafetyGate
from core.segmind.remote import RemoteRunner
from core.store.jobs import JobRecord
from core.store.sqlite import SqliteStore
from core.types import JobView


@dataclass(frozen=True, slots=True)
class EngineConfig:
    limits: Limits = field(default_factory=Limits)
    status_rps: float = 5.0  # all status requests, all jobs
    view_interval: float = 3.0  # at most one status update per job this often
    retention: float = 3600.0  # Segmind keeps results this long
    job_deadline: float = 45 * 60.0  # give up polling a job after this long
    plan: PollPlan = field(default_factory=PollPlan)
    duration_scale: float = 1.0  # typical durations are multiplied by this (the simulator runs sped up)


class UploadCache(Protocol):
    """Saved characters' Segmind storage URLs (core.characters.CharacterBook implements it)."""

    async def cached_upload(self, character_id: str, *, max_age: float) -> str | None: ...

    async def remember_upload(self, character_id: str, url: str) -> None: ...


class JobHost(Protocol):
    """What the engine offers the jobs it drives (core.jobs.engine.JobEngine implements it)."""

    async def record(self, job: JobRecord, *, push: bool = False) -> JobRecord:
        """Take `job` as the latest row; push its status (at once when final or `push`)."""
        ...

    def view(self, job: JobRecord) -> JobView: ...

    def release_slot(self, job_id: str) -> None:
        """The job no longer needs Segmind: its admission slot goes to the next waiting job."""
        ...


@dataclass(slots=True)
class CreditsAlarm:
    """Out of credits is logged once per outage, not once per failing job."""

    raised: bool = False

    def should_log(self) -> bool:
        first, self.raised = not self.raised, True
        return first

    def clear(self) -> None:
        """Segmind accepted a job again: the next outage is news."""
        self.raised = False


@dataclass(frozen=True, slots=True)
class JobContext:
    store: SqliteStore
    runner: RemoteRunner
    clock: Clock
    rng: random.Random
    budget: RequestBudget  # shared by every job: a 429 slows them all
    durations: DurationModel
    config: EngineConfig
    data_dir: Path
    host: JobHost
    messengers: Mapping[str, Messenger]  # live: an adapter that registers later is seen
    credits: CreditsAlarm
    gate: SafetyGate  # classifies outputs before any messenger posts them
    uploads: UploadCache | None = None
