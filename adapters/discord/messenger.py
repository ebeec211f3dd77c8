"""The Discord Messenger: job status as edits of the deferred response, results as files with buttons.

Status edits are coalesced per job (only the newest view is sent, and only when its text or buttons
changed) and paced per channel on the injected clock. What a status message last showed is kept in the
job's reply reference too (through `on_shown`), so a restarted process never repeats an identical edit.
A reply reference outlives the process: it holds the interaction token, which Discord honours for 15
minutes; after that (or when Discord says the webhook is gone) results go to the channel as a normal
message that mentions the user — and nobody else: the client's default allowed_mentions parse nothing.
Files are sized by the interaction's own upload limit (`attachment_size_limit`).
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable, Sequence

import discord

from adapters.discord.context import ReplyRef
from adapters.discord.files import UPLOAD_LIMIT, batches, fit
from adapters.discord.render import result_caption, status_text
from adapters.discord.views import result_view, status_view
from core.clock import Clock
from core.statustext import content_digest
from core.types import JobView, OutputImage

log = logging.getLogger(__name__)

TOKEN_LIFETIME = 15 * 60.0
TOKEN_MARGIN = 60.0  # never start an upload on a token about to die
STATUS_INTERVAL = 1.5  # seconds between two edits of one status message: later views coalesce
CHANNEL_BURST, CHANNEL_WINDOW = 5, 5.0  # at most 5 status edits per 5 s in one channel (Discord's pace)
REMEMBERED_JOBS = 5000  # last-shown texts kept; older jobs are long finished
MAX_FLUSH_ROUNDS = 1000  # a job's status changes far fewer times than this
DEAD_TOKEN = frozenset({10015, 50027})  # Unknown Webhook; Invalid Webhook Token (the 15 minutes are up)


class ChannelPacer:
    """Hands out edit times: at most `burst` per `window` seconds per channel, in order of asking."""

    def __init__(self, clock: Clock, *, burst: int = CHANNEL_BURST, window: float = CHANNEL_WINDOW) -> None:
        self.clock = clock
        self.burst = burst
        self.window = window
        self._slots: dict[int, deque[float]] = {}

    def reserve(self, channel_id: int, *, not_before: float = 0.0) -> float:
        slots = self._slots.setdefault(channel_id, deque(maxlen=self.burst))
        at = max(self.clock.now(), not_before, slots[-1] if slots else 0.0)
        if len(slots) == self.burst:
            at = max(at, slots[0] + self.window)
        slots.append(at)  # reserved before anyone sleeps, so concurrent jobs queue up fairly
        return at


class DiscordMessenger:
    def __init__(self, client: discord.Client, *, clock: Clock, interval: float = STATUS_INTERVAL,
                 upload_limit: int = UPLOAD_LIMIT,
                 on_shown: Callable[[str, str], Awaitable[None]] | None = None) -> None:
        self.client = client
        self.clock = clock
        self.interval = interval
        self.upload_limit = upload_limit  # when a reply reference does not carry the interaction's own
        self.on_shown = on_shown  # (job id, reply reference) after each status edit: persists `shown`
        self._shown: OrderedDict[str, str] = OrderedDict()  # job id -> digest last shown (bounded)
        self._last_edit: dict[str, float] = {}  # job id -> clock time of its last status edit
        self._pending: dict[str, tuple[ReplyRef, JobView]] = {}  # job id -> newest view not yet shown
        self._flushers: dict[str, asyncio.Task[None]] = {}
        self.pacer = ChannelPacer(clock)
        self._dead_tokens: set[str] = set()

    # --- Messenger protocol ---------------------------------------------------------------------

    async def show(self, reply_ref: str, view: JobView) -> None:
        """Queue the newest status; a per-job task sends it when the channel's turn comes."""
        ref = ReplyRef.loads(reply_ref)
        if self._shown.get(view.job_id, ref.shown) == shown_digest(view):
            return
        self._pending[view.job_id] = (ref, view)
        task = self._flushers.get(view.job_id)
        if task is None or task.done():
            self._flushers[view.job_id] = asyncio.create_task(self._flush(view.job_id))

    async def deliver(self, reply_ref: str, view: JobView, images: Sequence[OutputImage]) -> list[str]:
        """Post the images; raises when they could not be posted, so the engine tries again. Returns the posted
        messages as `channel:message` handles (for a later removal)."""
        ref = ReplyRef.loads(reply_ref)
        limit = ref.upload_limit or self.upload_limit
        # Files are consumed by a send, so each path builds its own from the images (the same groups); the images
        # are fitted to the limit once, so the fallback's files don't re-encode what the first path already did.
        images = fit(images, limit)
        groups = batches(images, limit)
        posted: list[str] = []
        if self._token_alive(ref):
            await self._deliver_followups(ref, view, groups, posted)
        if len(posted) < len(groups):
            await self._deliver_to_channel(ref, view, batches(images, limit), posted)
        await self.show(reply_ref, view)
        return posted

    async def remove(self, refs: Sequence[str]) -> int:
        """Delete posted results by their handles; one already gone counts as done, not as deleted."""
        removed = 0
        for handle in refs:
            channel_id, message_id = (int(part) for part in handle.split(":", 1))
            try:
                await self.client.get_partial_messageable(channel_id).get_partial_message(message_id).delete()
            except discord.NotFound:
                log.info("result message %s in channel %s was already gone", message_id, channel_id)
                continue
            removed += 1
        return removed

    async def close(self) -> None:
        tasks = [t for t in self._flushers.values() if not t.done()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._flushers.clear()

    @property
    def idle(self) -> bool:
        """No status edit is waiting or being sent. A test on a virtual clock waits for this while advancing the
        clock: `settle()` alone would wait on a flusher sleeping until a time nobody moves the clock to."""
        return all(t.done() for t in self._flushers.values())

    async def settle(self) -> None:
        """Wait for the status edits already queued (tests, shutdown)."""
        tasks = [t for t in self._flushers.values() if not t.done()]
        await asyncio.gather(*tasks, return_exceptions=True)

    # --- status ---------------------------------------------------------------------------------

    async def _flush(self, job_id: str) -> None:
        for _ in range(MAX_FLUSH_ROUNDS):
            item = self._pending.get(job_id)
            if item is None:
                return
            not_before = self._last_edit.get(job_id, float("-inf")) + self.interval
            at = self.pacer.reserve(item[0].channel_id, not_before=not_before)
            if at > self.clock.now():
                await self.clock.sleep(at - self.clock.now())
            ref, view = self._pending.pop(job_id)  # the newest, which may have arrived while waiting
            digest = shown_digest(view)
            if self._shown.get(job_id, ref.shown) == digest:
                continue
            edited = False
            try:
                edited = await self._edit_status(ref, view, status_text(view))
            except Exception:
                log.exception("status edit for job %s failed", job_id)
            self._remember(job_id, digest)  # a failed edit is not retried with the same content either
            if edited and self.on_shown is not None:
                await self._persist(job_id, dataclasses.replace(ref, shown=digest))

    async def _persist(self, job_id: str, ref: ReplyRef) -> None:
        assert self.on_shown is not None
        try:
            await self.on_shown(job_id, ref.dumps())
        except Exception:
            log.warning("job %s: could not record its shown status", job_id, exc_info=True)

    def _remember(self, job_id: str, digest: str) -> None:
        self._shown[job_id] = digest
        self._shown.move_to_end(job_id)
        self._last_edit[job_id] = self.clock.now()
        while len(self._shown) > REMEMBERED_JOBS:
            old, _ = self._shown.popitem(last=False)
            self._last_edit.pop(old, None)

    async def _edit_status(self, ref: ReplyRef, view: JobView, text: str) -> bool:
        """Edit the status message; whether it now shows `text`."""
        buttons = status_view(view.job_id) if view.state.is_cancellable else None
        if self._token_alive(ref):
            try:
                await self._webhook(ref).edit_message("@original", content=text, view=buttons)  # type: ignore[arg-type]
                return True
            except discord.HTTPException as exc:
                self._forget_token(ref, exc)
        if not ref.message_id:
            log.debug("job %s: interaction token expired and no message id, status not edited", view.job_id)
            return False
        # The token is gone but the message is the bot's own: edit it through the channel instead.
        message = self.client.get_partial_messageable(ref.channel_id).get_partial_message(ref.message_id)
        try:
            await message.edit(content=text, view=buttons)
        except discord.HTTPException as exc:
            log.info("job %s: status message %s not editable (%s)", view.job_id, ref.message_id, exc.status)
            return False
        return True

    # --- results --------------------------------------------------------------------------------

    async def _deliver_followups(self, ref: ReplyRef, view: JobView, groups: list[list[discord.File]],
                                 posted: list[str]) -> None:
        webhook = self._webhook(ref)
        for number, files in enumerate(groups, start=1):
            last = number == len(groups)
            try:
                message = await webhook.send(
                    result_caption(view, part=number, parts=len(groups)), files=files, wait=True,
                    view=result_view(view.job_id) if last else discord.utils.MISSING,
                )
            except discord.HTTPException as exc:
                self._forget_token(ref, exc)
                return
            posted.append(f"{ref.channel_id}:{message.id}")

    async def _deliver_to_channel(
        self, ref: ReplyRef, view: JobView, groups: list[list[discord.File]], posted: list[str],
    ) -> None:
        start = len(posted)
        channel = self.client.get_partial_messageable(ref.channel_id)
        mentions = discord.AllowedMentions(everyone=False, roles=False, users=[discord.Object(ref.user_id)])
        log.info("job %s: delivering to channel %s as a normal message", view.job_id, ref.channel_id)
        for number, files in enumerate(groups[start:], start=start + 1):
            last = number == len(groups)
            message = await channel.send(
                result_caption(view, mention=ref.user_id, part=number, parts=len(groups)), files=files,
                allowed_mentions=mentions, view=result_view(view.job_id) if last else discord.utils.MISSING,
            )
            posted.append(f"{ref.channel_id}:{message.id}")

    # --- tokens ---------------------------------------------------------------------------------

    def _token_alive(self, ref: ReplyRef) -> bool:
        age = self.clock.now() - ref.created
        return ref.token not in self._dead_tokens and age < TOKEN_LIFETIME - TOKEN_MARGIN

    def _forget_token(self, ref: ReplyRef, exc: discord.HTTPException) -> None:
        """After a refused webhook call: stop using a dead token; anything else but a gone message raises."""
        if exc.code in DEAD_TOKEN:
            log.info("interaction token for channel %s is no longer valid", ref.channel_id)
            self._dead_tokens.add(ref.token)
        elif isinstance(exc, discord.NotFound):
            log.info("status message in channel %s is gone (code %s)", ref.channel_id, exc.code)
        else:
            raise exc

    def _webhook(self, ref: ReplyRef) -> discord.Webhook:
        return discord.Webhook.partial(ref.app_id, ref.token, client=self.client)



def shown_digest(view: JobView) -> str:
    """What a status message shows — its text and whether it has a Cancel button — in a few bytes."""
    return content_digest(status_text(view), view.state.is_cancellable)
