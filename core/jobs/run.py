"""One job's way through Segmind: start, poll, download, store, deliver — each step persisted first."""

from __future__ import annotations

import asyncio
import logging
import mimetypes
from pathlib import Path

from core import metrics
from core.catalog import MODELS, Encoding, Transport
from core.errors import UserError
from core.jobs.context import JobContext
from core.jobs.explain import (
    EXPIRED_MESSAGE,
    INTERRUPTED_MESSAGE,
    NOTHING_CHARGED,
    TIMED_OUT_MESSAGE,
    UNDELIVERABLE_MESSAGE,
    explain_failure,
)
from core.jobs.outputs import load_outputs, planned_outputs, write_outputs
from core.jobs.polling import next_delay
from core.jobs.timing import DeliveryTrace
from core.moderation.gate import Screened
from core.segmind.errors import (
    NoCredits,
    NotFound,
    RateLimited,
    SegmindAPIError,
    SegmindError,
    SegmindNetworkError,
    Upstream,
    is_retryable,
)
from core.segmind.remote import RemoteHandle, RemoteStatus
from core.store.auditlog import AuditStore
from core.store.sqlite import JobRecord
from core.types import ImageInput, ImageRole, JobState

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


async def drive(ctx: JobContext, job_id: str) -> None:
    job = await ctx.store.get_job(job_id)
    if job is None:  # the engine admitted it, so the store must have it: a read that misses is a bug
        log.error("job %s was admitted but the store has no such job; not started", job_id)
        return
    if job.state.is_final:
        return
    trace, screening = None, None
    try:
        if job.state == JobState.ACCEPTED:
            job = await _start(ctx, job)
        if job.state in (JobState.SUBMITTED, JobState.RUNNING):
            job, trace, screening = await _poll_and_fetch(ctx, job)
        ctx.host.release_slot(job.job_id)
        if job.state == JobState.COMPLETED:
            await _deliver(ctx, job, trace or DeliveryTrace(job.job_id, ctx.clock), screening)
    except JobEnded:
        return
    except SegmindError as exc:
        await _fail(ctx, job_id, exc)
    except UserError as exc:  # e.g. an input image that vanished from the data directory
        await _finish(ctx, job_id, JobState.FAILED, f"{exc} {NOTHING_CHARGED}")
    except Exception as exc:
        log.exception("job %s broke unexpectedly", job_id)
        await _fail(ctx, job_id, exc)
    finally:  # the job ended before its delivery needed the verdict, or its adapter is not there yet
        if screening is not None and not screening.cancel() and not screening.cancelled():
            screening.exception()  # done: a failure is the resumed delivery's to meet again, not a stray warning


async def _fail(ctx: JobContext, job_id: str, exc: BaseException) -> None:
    if isinstance(exc, NoCredits):
        if ctx.credits.should_log():
            log.error("Segmind answered 406: the account is out of credits; jobs fail (refunded) until topped up")
    elif isinstance(exc, SegmindAPIError):
        log.warning("job %s failed at Segmind: %s %s", job_id, exc.status, exc.detail[:200])
    await _finish(ctx, job_id, JobState.FAILED, explain_failure(exc))


async def _finish(ctx: JobContext, job_id: str, state: JobState, message: str | None, *,
                  charge: bool = False) -> JobRecord:
    job, changed = await ctx.store.finish_job(job_id, state, error=message, charge=charge)
    if changed:
        await ctx.host.record(job)
        if state == JobState.DELIVERED or (charge and state == JobState.WITHHELD):
            metrics.QUOTA_UNITS_SPENT.labels(model=job.model).inc(job.cost)
    return job


async def _refresh(ctx: JobContext, job: JobRecord) -> JobRecord:
    """Re-read the row; stop when someone else (a cancel) made it final."""
    fresh = await ctx.store.get_job(job.job_id)
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


async def _start(ctx: JobContext, job: JobRecord) -> JobRecord:
    model = MODELS[job.model]
    if job.attempts >= 2 and not job.remote_ref:
        await _finish(ctx, job.job_id, JobState.FAILED, INTERRUPTED_MESSAGE)
        raise JobEnded
    payload: dict | None = None
    for _ in range(SUBMIT_RATE_LIMIT_TRIES):
        try:  # a 429 burst outlasting the client's tries on the character upload waits too (chaos run)
            payload = payload or await _prepare(ctx, job)
        except RateLimited as exc:
            await _wait_out(ctx, exc)
            job = await _refresh(ctx, job)
            continue
        job = await ctx.store.update_job(job.job_id, attempts=job.attempts + 1)
        try:
            started = await ctx.runner.start(model, payload)
        except RateLimited as exc:
            job = await ctx.store.update_job(job.job_id, attempts=job.attempts - 1)
            await _wait_out(ctx, exc)
            job = await _refresh(ctx, job)
            continue
        ctx.credits.clear()
        break
    else:
        raise Upstream("Segmind kept refusing new jobs (429)", status=429)
    now = ctx.clock.now()
    if started.handle is None:  # v1: the images came back with the call
        job = await _store_outputs(ctx, job, list(started.images))
        return await ctx.host.record(await ctx.store.update_job(job.job_id, submitted_at=now))
    job = await ctx.store.update_job(
        job.job_id, state=JobState.SUBMITTED, remote_ref=started.handle.ref, submitted_at=now
    )
    return await ctx.host.record(job, push=True)


async def _wait_out(ctx: JobContext, exc: RateLimited) -> None:
    """Segmind said slow down: pause every job's calls and wait, rather than fail this one."""
    metrics.RATE_LIMITED.labels(source="segmind").inc()
    ctx.budget.pause(exc.retry_after or 5.0)
    await ctx.clock.sleep(exc.retry_after or 5.0)


async def _prepare(ctx: JobContext, job: JobRecord) -> dict:
    """The full payload; a saved character's storage URL is reused while fresh instead of re-uploaded."""
    model = MODELS[job.model]
    slot = model.slot(ImageRole.CHARACTER)
    cacheable = ctx.uploads is not None and job.character_id and slot and slot.encoding == Encoding.URI
    uploaded = {}
    if cacheable:
        url = await ctx.uploads.cached_upload(job.character_id, max_age=UPLOAD_MAX_AGE)
        if url:
            uploaded[ImageRole.CHARACTER] = url
    payload = await ctx.runner.prepare(model, dict(job.payload), await _load_inputs(job), uploaded=uploaded)
    if cacheable and not uploaded:
        await ctx.uploads.remember_upload(job.character_id, payload[slot.field])
    return payload


def _handle(job: JobRecord) -> RemoteHandle:
    return RemoteHandle(MODELS[job.model].transport, job.remote_ref or "")


async def _poll_and_fetch(
    ctx: JobContext, job: JobRecord,
) -> tuple[JobRecord, DeliveryTrace, asyncio.Future[Screened] | None]:
    status = await _poll(ctx, job)
    trace = DeliveryTrace(job.job_id, ctx.clock)  # seen done: from here on every millisecond is castbot's
    try:
        files = await ctx.runner.fetch(status)
    except NotFound:
        await _finish(ctx, job.job_id, JobState.EXPIRED, EXPIRED_MESSAGE)
        raise JobEnded from None
    trace.mark("download")
    job = await _refresh(ctx, job)
    screening = None
    if not job.outputs:  # the usual case: the gate scores the bytes in hand while they are written, not after
        screening = asyncio.ensure_future(ctx.gate.screen(job, planned_outputs(ctx.data_dir, job.job_id, files)))
    try:
        job = await _store_outputs(ctx, job, files)
    except BaseException:
        if screening is not None:
            screening.cancel()
        raise
    trace.mark("store")
    return job, trace, screening


async def _poll(ctx: JobContext, job: JobRecord) -> RemoteStatus:
    model = MODELS[job.model]
    assert model.transport != Transport.V1
    submitted = job.submitted_at or ctx.clock.now()
    median, sigma = ctx.durations.estimate(job.model)
    errors = not_found = 0
    for _ in range(MAX_POLLS):
        ran = ctx.clock.now() - submitted
        if ran > ctx.config.job_deadline:
            await _finish(ctx, job.job_id, JobState.FAILED, TIMED_OUT_MESSAGE)
            raise JobEnded
        delay = next_delay(ran, median, sigma, ctx.config.plan)
        if errors:
            cap = min(NETWORK_BACKOFF_CAP, NETWORK_BACKOFF_BASE * 2 ** min(errors, 6))
            delay = max(delay, ctx.rng.uniform(0, cap))
        await ctx.clock.sleep(delay)
        await ctx.budget.acquire()
        metrics.STATUS_REQUESTS.inc()
        try:
            status = await ctx.runner.check(_handle(job), attempts=1)
        except RateLimited as exc:
            metrics.RATE_LIMITED.labels(source="segmind").inc()
            ctx.budget.pause(exc.retry_after or 5.0)
            continue
        except NotFound:
            not_found += 1
            if ctx.clock.now() - submitted >= ctx.config.retention:
                await _finish(ctx, job.job_id, JobState.EXPIRED, EXPIRED_MESSAGE)
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
            ctx.durations.observe(job.model, ctx.clock.now() - submitted)
            return status
        if status.state == "PROCESSING" and job.state != JobState.RUNNING:
            job = await _refresh(ctx, job)
            job = await ctx.host.record(await ctx.store.update_job(
                job.job_id, state=JobState.RUNNING, started_at=ctx.clock.now()
            ))
    raise Upstream("poll limit reached", status=504)


async def _store_outputs(ctx: JobContext, job: JobRecord, files: list[tuple[bytes, str]]) -> JobRecord:
    job = await ctx.store.add_outputs(job.job_id, await write_outputs(ctx.data_dir, job.job_id, files))
    job = await ctx.store.update_job(job.job_id, state=JobState.COMPLETED, completed_at=ctx.clock.now())
    return await ctx.host.record(job)


async def _deliver(ctx: JobContext, job: JobRecord, trace: DeliveryTrace,
                   screening: asyncio.Future[Screened] | None = None) -> None:
    messenger = ctx.messengers.get(job.platform)
    if messenger is None:
        log.info("job %s is ready; waiting for the %s adapter to deliver it", job.job_id, job.platform)
        return
    # before any messenger sees them: the screening of the bytes just downloaded, else of the files (a resumed job)
    screened = await screening if screening is not None else await ctx.gate.screen(job, await load_outputs(job))
    if screened.withheld:
        await _finish(ctx, job.job_id, JobState.WITHHELD, screened.message, charge=screened.charge)
        return
    images = list(screened.images)
    trace.mark("screen")
    started = ctx.clock.now()
    posted = None
    for attempt, backoff in enumerate((*DELIVERY_BACKOFF, None), start=1):
        job = await _refresh(ctx, job)
        try:
            posted = await messenger.deliver(job.reply_ref, ctx.host.view(job), images)
            break
        except Exception:
            log.warning("delivery of job %s failed (attempt %d)", job.job_id, attempt, exc_info=True)
            if backoff is None:
                await _finish(ctx, job.job_id, JobState.FAILED, UNDELIVERABLE_MESSAGE)
                return
            await ctx.clock.sleep(backoff)
    trace.mark("send")
    trace.done(job.platform, len(images))
    metrics.DELIVERY_LATENCY.labels(platform=job.platform).observe(max(0.0, ctx.clock.now() - started))
    await _finish(ctx, job.job_id, JobState.DELIVERED, None)  # first: the user's final status waits on nothing
    if posted:  # where the results are, so an admin's removal can delete them; never a reason to deliver again
        try:
            await AuditStore(ctx.store).save_messages(job.job_id, posted)
        except Exception:
            log.warning("job %s: its result messages were not recorded", job.job_id, exc_info=True)
