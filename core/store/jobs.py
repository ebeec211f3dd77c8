"""Job rows: what the engine hands the store (NewJob), what it gets back (JobRecord), and the mapping."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import aiosqlite

from core.types import JobState

# Columns written from a NewJob, in insert order (job_id first); state and timestamps follow.
JOB_COLUMNS = (
    "job_id", "idem_key", "platform", "user_id", "user_name", "scope_id", "chat_id", "model", "prompt",
    "payload", "inputs", "cost", "reply_ref", "character_id", "seed", "is_admin", "rating",
)
INSERT_COLUMNS = (*JOB_COLUMNS, "state", "created_at")
LIFECYCLE_COLUMNS = (
    "state", "remote_ref", "error", "attempts", "created_at", "submitted_at", "started_at",
    "completed_at", "finished_at",
)
SELECT_COLUMNS = ", ".join((*JOB_COLUMNS, *LIFECYCLE_COLUMNS))


@dataclass(frozen=True, slots=True)
class NewJob:
    idem_key: str
    platform: str
    user_id: str
    user_name: str
    scope_id: str
    chat_id: str
    model: str
    prompt: str
    payload: dict[str, Any]  # validated API payload without images (JSON-serializable)
    inputs: dict[str, str]  # image role -> stored file path of the normalized input image
    cost: int
    reply_ref: str
    character_id: str | None = None
    seed: int | None = None
    is_admin: bool = False  # so an "unlimited admins" policy can apply
    rating: str = "sfw"  # the place's rating when asked (core.moderation.ratings); the gate judges by it


@dataclass(frozen=True, slots=True)
class JobRecord:
    job_id: str
    idem_key: str
    platform: str
    user_id: str
    user_name: str
    scope_id: str
    chat_id: str
    model: str
    prompt: str
    payload: dict[str, Any]
    inputs: dict[str, str]
    cost: int
    reply_ref: str
    character_id: str | None
    seed: int | None
    state: JobState
    remote_ref: str | None  # v2 request id or workflow poll_url, saved the moment submit returns
    error: str | None
    attempts: int  # how many times the remote call was started (v1 crash retry rule)
    created_at: float
    submitted_at: float | None
    started_at: float | None
    completed_at: float | None
    finished_at: float | None
    outputs: tuple[str, ...]  # stored output file paths
    is_admin: bool = False
    rating: str = "sfw"


def job_values(new: NewJob) -> tuple[Any, ...]:
    """The NewJob's column values after JOB_COLUMNS[0]; ValueError on a malformed job."""
    if not new.idem_key:
        raise ValueError("a job needs an idempotency key")
    if isinstance(new.cost, bool) or not isinstance(new.cost, int) or new.cost < 0:
        raise ValueError(f"cost must be a non-negative int, got {new.cost!r}")
    try:
        payload = json.dumps(new.payload, sort_keys=True, allow_nan=False)
        inputs = json.dumps({str(k): str(v) for k, v in new.inputs.items()}, sort_keys=True)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"job payload is not JSON-serializable: {exc}") from None
    return (
        new.idem_key, new.platform, new.user_id, new.user_name, new.scope_id, new.chat_id, new.model,
        new.prompt, payload, inputs, new.cost, new.reply_ref, new.character_id, new.seed,
        1 if new.is_admin else 0, new.rating,
    )


def job_from_row(row: Sequence[Any], outputs: tuple[str, ...]) -> JobRecord:
    """Build a JobRecord from a row selected with SELECT_COLUMNS."""
    (job_id, idem_key, platform, user_id, user_name, scope_id, chat_id, model, prompt, payload, inputs,
     cost, reply_ref, character_id, seed, is_admin, rating, state, remote_ref, error, attempts, created_at,
     submitted_at, started_at, completed_at, finished_at) = row
    return JobRecord(
        job_id=job_id, idem_key=idem_key, platform=platform, user_id=user_id, user_name=user_name,
        scope_id=scope_id, chat_id=chat_id, model=model, prompt=prompt, payload=json.loads(payload),
        inputs=json.loads(inputs), cost=int(cost), reply_ref=reply_ref, character_id=character_id,
        seed=None if seed is None else int(seed), state=JobState(state), remote_ref=remote_ref, error=error,
        attempts=int(attempts), created_at=float(created_at), submitted_at=_opt(submitted_at),
        started_at=_opt(started_at), completed_at=_opt(completed_at), finished_at=_opt(finished_at),
        outputs=outputs, is_admin=bool(is_admin), rating=rating,
    )


def _opt(value: Any) -> float | None:
    return None if value is None else float(value)


def record_from_new(new: NewJob, job_id: str, now: float) -> JobRecord:
    """The record create_job just wrote, without reading it back."""
    return JobRecord(
        job_id=job_id, idem_key=new.idem_key, platform=new.platform, user_id=new.user_id,
        user_name=new.user_name, scope_id=new.scope_id, chat_id=new.chat_id, model=new.model, prompt=new.prompt,
        payload=json.loads(json.dumps(new.payload)), inputs={str(k): str(v) for k, v in new.inputs.items()},
        cost=new.cost, reply_ref=new.reply_ref, character_id=new.character_id, seed=new.seed,
        state=JobState.ACCEPTED, remote_ref=None, error=None, attempts=0, created_at=now, submitted_at=None,
        started_at=None, completed_at=None, finished_at=None, outputs=(), is_admin=new.is_admin,
        rating=new.rating,
    )


# --- reads and writes inside a transaction (or on the reader connection) -----------------------

OUTPUTS_BATCH = 500  # job ids per `IN (...)` list: well under SQLite's limit on bound parameters


async def with_outputs_many(conn: aiosqlite.Connection, rows: Sequence[Sequence[Any]]) -> list[JobRecord]:
    """Rows selected with SELECT_COLUMNS as records, their output paths read in a few queries: one query
    per row made a restart with thousands of unfinished jobs, or a history page, a stream of round trips."""
    paths: dict[str, list[str]] = {}
    ids = [row[0] for row in rows]
    for start in range(0, len(ids), OUTPUTS_BATCH):
        chunk = ids[start:start + OUTPUTS_BATCH]
        marks = ", ".join("?" for _ in chunk)
        found = await conn.execute_fetchall(
            f"SELECT job_id, path FROM job_outputs WHERE job_id IN ({marks}) ORDER BY job_id, position", chunk)
        for job_id, path in found:
            paths.setdefault(job_id, []).append(path)
    return [job_from_row(row, tuple(paths.get(row[0], ()))) for row in rows]


async def with_outputs(conn: aiosqlite.Connection, row: Sequence[Any]) -> JobRecord:
    rows = await conn.execute_fetchall("SELECT path FROM job_outputs WHERE job_id = ? ORDER BY position", (row[0],))
    outputs = tuple(r[0] for r in rows)
    return job_from_row(row, outputs)


async def read_job(conn: aiosqlite.Connection, column: str, value: str) -> JobRecord | None:
    rows = list(await conn.execute_fetchall(f"SELECT {SELECT_COLUMNS} FROM jobs WHERE {column} = ?", (value,)))
    return await with_outputs(conn, rows[0]) if rows else None


async def require_job(conn: aiosqlite.Connection, job_id: str) -> JobRecord:
    job = await read_job(conn, "job_id", job_id)
    if job is None:
        raise KeyError(f"no job {job_id!r}")
    return job


async def touch_user_and_scope(conn: aiosqlite.Connection, new: NewJob, now: float) -> None:
    await conn.execute(
        "INSERT INTO users (platform, user_id, name, first_seen, last_seen) VALUES (?, ?, ?, ?, ?) "
        "ON CONFLICT (platform, user_id) DO UPDATE SET name = excluded.name, last_seen = excluded.last_seen",
        (new.platform, new.user_id, new.user_name, now, now))
    await conn.execute("INSERT INTO scopes (scope_id, platform, created_at) VALUES (?, ?, ?) "
                       "ON CONFLICT (scope_id) DO NOTHING", (new.scope_id, new.platform, now))
