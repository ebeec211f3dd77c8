"""One job's way through Segmind: start, poll, download, store, deliver — each step persisted first."""

from __future__ import annotations

import asyncio
import logging
import mimetypes
from pathlib import Path
from typing import TYPE_CHECKING

from core import metrics
from core.catalog import MODELS, Encoding, Transport
from core.errors import (
    NoCredits,
    NotFound,
    RateLimited,
    SegmindAPIError,
    SegmindError,
    SegmindNetworkError,
    Upstream,
    UserError,
    is_retryable,
)
from core.files import write_atomic
from core.jobs.explain import (
    EXPIRED_MESSAGE,
    INTERRUPTED_MESSAGE,
    NOTHING_CHARGED,
    TIMED_OUT_MESSAGE,
    UNDELIVERABLE_MESSAGE,
    explain_failure,
)
from core.jobs.polling import next_delay
from core.segmind.remote import RemoteHandle, RemoteStatus
from core.store.sqlite import JobRecord
from core.types import ImageInput, ImageRole, JobState, OutputImage

if TYPE_CHECKING:
    from core.jobs.engine import JobEngine

log = logging.getLogger(__name__)

MAX_POLLS = 5_000  # hard bound on one job's poll loop (the deadline normally ends it far sooner)
SUBMIT_RATE_LIMIT_TRIES = 6  # a 429 on submit was a refusal, so trying again is not a blind re-POST
NOT_FOUND_TOLERANCE = 3  # fresh jobs may 404 briefly while Segmind's queue catches up
NETWORK_BACKOFF_BASE, NETWORK_BACKOFF_CAP = 2.0, 30.0
MAX_CONSECUTIVE_ERRORS = 40
DELIVERY_BACKOFF = (2.0, 5.0, 15.0, 30.0, 60.0)
UPLOAD_MAX_AGE = 6 * 3600.0  # Segmind does not document how long storage URLs live: re-upload well before a day


class JobEnded(Exception):
    """The job reached a final state inside the flow; nothing more to do."""


async def drive(engine: JobEngine, job_id: str) -> None:
    job = await engine.store.get_job(job_id)
    if job is None or job.state.is_final:
        return
    try:
        if job.state == JobState.ACCEPTED:
            job = await _start(engine, job)
        if job.state in (JobState.SUBMITTED, JobState.RUNNING):
            job = await _poll_and_fetch(engine, job)
        engine.release_slot(job.job_id)
        if job.state == JobState.COMPLETED:
            await _deliver(engine, job)
    except JobEnded:
        return
    except SegmindError as exc:
        await _fail(engine, job_id, exc)
    except UserError as exc:  # e.g. an input image that vanished from the data directory
        await _finish(engine, job_id, JobState.FAILED, f"{exc} {NOTHING_CHARGED}")
    except Exception as exc:
        log.exception("job %s broke unexpectedly", job_id)
        await _fail(engine, job_id, exc)


async def _fail(engine: JobEngine, job_id: str, exc: BaseException) -> None:
    if isinstance(exc, NoCredits):
        if not engine.credits_alerted:
            log.error("Segmind answered 406: the account is out of credits; jobs fail (refunded) until topped up")
            engine.credits_alerted = True
    elif isinstance(exc, SegmindAPIError):
        log.warning("job %s failed at Segmind: %s %s", job_id, exc.status, exc.detail[:200])
    await _finish(engine, job_id, JobState.FAILED, explain_failure(exc))


async def _finish(engine: JobEngine, job_id: str, state: JobState, message: str | None) -> JobRecord:
    job, changed = await engine.store.finish_job(job_id, state, error=message)
    if changed:
        await engine.record(job)
        if state == JobState.DELIVERED:
            metrics.QUOTA_UNITS_SPENT.labels(model=job.model).inc(job.cost)
    return job


async def _refresh(engine: JobEngine, job: JobRecord) -> JobRecord:
    """Re-read the row; stop when someone else (a cancel) made it final."""
    fresh = await engine.store.get_job(job.job_id)
    if fresh is None or fresh.state.is_final:
        raise JobEnded
    return fresh


async def _load_inputs(job: JobRecord) -> dict[ImageRole, ImageInput]:
    images = {}
    for role, path in job.inputs.items():
        data = await asyncio.to_thread(Path(path).read_bytes)
        mime = mimetypes.guess_type(path)[0] or "image/png"
        images[ImageRole(role)] = ImageInput(ImageRole(role), data, Path(path).name, mime)
    return images


async def _start(engine: JobEngine, job: JobRecord) -> JobRecord:
    model = MODELS[job.model]
    if job.attempts >= 2 and not job.remote_ref:
        await _finish(engine, job.job_id, JobState.FAILED, INTERRUPTED_MESSAGE)
        raise JobEnded
    payload: dict | None = None
    for _ in range(SUBMIT_RATE_LIMIT_TRIES):
        try:  # a 429 burst outlasting the client's tries on the character upload waits too (chaos run)
            payload = payload or await _prepare(engine, job)
        except RateLimited as exc:
            await _wait_out(engine, exc)
            job = await _refresh(engine, job)
            continue
        job = await engine.store.update_job(job.job_id, attempts=job.attempts + 1)
        try:
            started = await engine.runner.start(model, payload)
        except RateLimited as exc:
            job = await engine.store.update_job(job.job_id, attempts=job.attempts - 1)
            await _wait_out(engine, exc)
            job = await _refresh(engine, job)
            continue
        engine.credits_alerted = False
        break
    else:
        raise Upstream("Segmind kept refusing new jobs (429)", status=429)
    now = engine.clock.now()
    if started.handle is None:  # v1: the images came back with the call
        job = await _store_outputs(engine, job, list(started.images))
        return await engine.record(await engine.store.update_job(job.job_id, submitted_at=now))
    job = await engine.store.update_job(
        job.job_id, state=JobState.SUBMITTED, remote_ref=started.handle.ref, submitted_at=now
    )
    return await engine.record(job, push=True)


async def _wait_out(engine: JobEngine, exc: RateLimited) -> None:
    """Segmind said slow down: pause every job's calls and wait, rather than fail this one."""
    metrics.RATE_LIMITED.labels(source="segmind").inc()
    engine.budget.pause(exc.retry_after or 5.0)
    await engine.clock.sleep(exc.retry_after or 5.0)


async def _prepare(engine: JobEngine, job: JobRecord) -> dict:
    """The full payload; a saved character's storage URL is reused while fresh instead of re-uploaded."""
    model = MODELS[job.model]
    slot = model.slot(ImageRole.CHARACTER)
    cacheable = engine.uploads is not None and job.character_id and slot and slot.encoding == Encoding.URI
    uploaded = {}
    if cacheable:
        url = await engine.uploads.cached_upload(job.character_id, max_age=UPLOAD_MAX_AGE)
        if url:
            uploaded[ImageRole.CHARACTER] = url
    payload = await engine.runner.prepare(model, dict(job.payload), await _load_inputs(job), uploaded=uploaded)
    if cacheable and not uploaded:
        await engine.uploads.remember_upload(job.character_id, payload[slot.field])
    return payload


def _handle(job: JobRecord) -> RemoteHandle:
    return RemoteHandle(MODELS[job.model].transport, job.remote_ref or "")


async def _poll_and_fetch(engine: JobEngine, job: JobRecord) -> JobRecord:
    status = await _poll(engine, job)
    try:
        files = await engine.runner.fetch(status)
    except NotFound:
        await _finish(engine, job.job_id, JobState.EXPIRED, EXPIRED_MESSAGE)
        raise JobEnded from None
    job = await _refresh(engine, job)
    return await _store_outputs(engine, job, files)


async def _poll(engine: JobEngine, job: JobRecord) -> RemoteStatus:
    model = MODELS[job.model]
    assert model.transport != Transport.V1
    submitted = job.submitted_at or engine.clock.now()
    median, sigma = engine.durations.estimate(job.model)
    errors = not_found = 0
    for _ in range(MAX_POLLS):
        ran = engine.clock.now() - submitted
        if ran > engine.config.job_deadline:
            await _finish(engine, job.job_id, JobState.FAILED, TIMED_OUT_MESSAGE)
            raise JobEnded
        delay = next_delay(ran, median, sigma, engine.config.plan)
        if errors:
            cap = min(NETWORK_BACKOFF_CAP, NETWORK_BACKOFF_BASE * 2 ** min(errors, 6))
            delay = max(delay, engine.rng.uniform(0, cap))
        await engine.clock.sleep(delay)
        await engine.budget.acquire()
        metrics.STATUS_REQUESTS.inc()
        try:
            status = await engine.runner.check(_handle(job), attempts=1)
        except RateLimited as exc:
            metrics.RATE_LIMITED.labels(source="segmind").inc()
            engine.budget.pause(exc.retry_after or 5.0)
            continue
        except NotFound:
            not_found += 1
            if engine.clock.now() - submitted >= engine.config.retention:
                await _finish(engine, job.job_id, JobState.EXPIRED, EXPIRED_MESSAGE)
                raise JobEnded from None
            if not_found >= NOT_FOUND_TOLERANCE:
                raise
            continue
        except (SegmindNetworkError, Upstream) as exc:
            errors += 1
            log.debug("status of job %s: %s (%d in a row)", job.job_id, type(exc).__name__, errors)
            if errors >= MAX_CONSECUTIVE_ERRORS or not is_retryable(exc):
                raise
            continue
        errors = not_found = 0
        if status.state == "COMPLETED":
            engine.durations.observe(job.model, engine.clock.now() - submitted)
            return status
        if status.state == "PROCESSING" and job.state != JobState.RUNNING:
            job = await _refresh(engine, job)
            job = await engine.record(await engine.store.update_job(
                job.job_id, state=JobState.RUNNING, started_at=engine.clock.now()
            ))
    raise Upstream("poll limit reached", status=504)


_EXT = {"image/png": ".png", "image/jpeg": ".jpg", "image/webp": ".webp"}


async def _store_outputs(engine: JobEngine, job: JobRecord, files: list[tuple[bytes, str]]) -> JobRecord:
    folder = engine.data_dir / "outputs" / job.job_id
    paths = []
    for i, (data, mime) in enumerate(files, start=1):
        path = folder / f"{i}{_EXT.get(mime, mimetypes.guess_extension(mime) or '.bin')}"
        await asyncio.to_thread(write_atomic, path, data)
        paths.append(str(path))
    job = await engine.store.add_outputs(job.job_id, paths)
    job = await engine.store.update_job(job.job_id, state=JobState.COMPLETED, completed_at=engine.clock.now())
    return await engine.record(job)


async def load_outputs(job: JobRecord) -> list[OutputImage]:
    images = []
    for path in job.outputs:
        data = await asyncio.to_thread(Path(path).read_bytes)
        mime = mimetypes.guess_type(path)[0] or "application/octet-stream"
        images.append(OutputImage(data, mime, Path(path).name, path))
    return images


async def _deliver(engine: JobEngine, job: JobRecord) -> None:
    messenger = engine.messenger(job.platform)
    if messenger is None:
        log.info("job %s is ready; waiting for the %s adapter to deliver it", job.job_id, job.platform)
        return
    images = await load_outputs(job)
    started = engine.clock.now()
    for attempt, backoff in enumerate((*DELIVERY_BACKOFF, None), start=1):
        job = await _refresh(engine, job)
        try:
            await messenger.deliver(job.reply_ref, engine.view(job), images)
            break
        except Exception:
            log.warning("delivery of job %s failed (attempt %d)", job.job_id, attempt, exc_info=True)
            if backoff is None:
                await _finish(engine, job.job_id, JobState.FAILED, UNDELIVERABLE_MESSAGE)
                return
            await engine.clock.sleep(backoff)
    metrics.DELIVERY_LATENCY.labels(platform=job.platform).observe(max(0.0, engine.clock.now() - started))
    await _finish(engine, job.job_id, JobState.DELIVERED, None)
