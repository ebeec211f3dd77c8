"""The Telegram Messenger: status edits coalesced per message and paced per chat; delivery of images;
command answers through per-chat outboxes (outbox.py), so no update handler ever waits for a chat's pace.

`show` only records the latest view of a status message and makes sure the chat's drain task runs;
the drain task edits each waiting message once per turn with whatever view is newest by then, so a
burst of progress updates costs one edit. Sends (status placeholders, results) share the same turns.

An edit that would leave a message as it is never goes out: Telegram refuses it ("message is not
modified") and still counts it against the chat's flood budget. So the messenger remembers a digest of
what each status message shows — in memory, and in the job's reply reference, which the store keeps,
so a restarted bot re-showing a finished job's status knows the message already says exactly that.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

from telegram import Bot, InlineKeyboardMarkup, Message
from telegram.constants import ParseMode
from telegram.error import BadRequest, RetryAfter, TelegramError

from adapters.telegram import render
from adapters.telegram.buttons import ButtonCodec
from adapters.telegram.outbox import Call, Done, Failed, Outbox
from adapters.telegram.pacing import ChatPacer, retry_seconds
from adapters.telegram.results import Results, reply_parameters
from adapters.telegram.statusref import StatusRef, shown_digest
from core.types import JobView, OutputImage

log = logging.getLogger(__name__)

T = TypeVar("T")
SEND_ATTEMPTS = 4  # tries per send when Telegram answers RetryAfter
MAX_DRAIN_ROUNDS = 100_000  # a drain task stops after this many turns even if views keep coming


PostedHook = Callable[[str, str], Awaitable[None]]  # (job id, new reply reference)
Pending = OrderedDict[int | str, tuple[JobView, StatusRef]]


class TelegramMessenger:
    """Paced status edits and deliveries.

    A job is persisted before its status message exists (so a crash can never swallow a command the
    bot already took from Telegram): its first status view posts the message, and `on_posted` records
    the new reference so edits after a restart land on that same message. Every edit records the
    reference again with the digest of what the message now shows.
    """

    def __init__(self, bot: Bot, *, pacer: ChatPacer, codec: ButtonCodec, on_posted: PostedHook | None = None) -> None:
        self._bot = bot
        self._pacer = pacer
        self._codec = codec
        self.on_posted = on_posted
        # per chat: status message id (or "job:<id>" while not yet posted) -> (newest view, its reference)
        self._pending: dict[int, Pending] = {}
        self._drains: dict[int, asyncio.Task[None]] = {}
        self._posted: dict[str, int] = {}  # job id -> status message posted by this process
        self._posting: dict[str, JobView | None] = {}  # job id -> newest view that arrived while posting
        self._shown: dict[tuple[int, int], str] = {}  # (chat, status message) -> digest of what it shows
        self.results = Results(bot, codec, self.send)  # result photos and their removal, paced like the rest
        self.outbox = Outbox(lambda chat_id, call: self.send(chat_id, call, answer=True), on_empty=pacer.wake)
        pacer.answers_waiting = self.outbox.waiting  # so job traffic never slips in between queued answers

    # --- Messenger protocol ----------------------------------------------------------------------

    async def show(self, reply_ref: str, view: JobView) -> None:
        ref = StatusRef.decode(reply_ref)
        message_id = ref.message_id or self._posted.get(view.job_id)
        if message_id is None and view.job_id in self._posting:
            self._posting[view.job_id] = view  # shown once the message exists
            return
        key: int | str = message_id if message_id is not None else f"job:{view.job_id}"
        queue = self._pending.setdefault(ref.chat_id, OrderedDict())
        if message_id is not None and self._shows(ref, message_id, view):
            queue.pop(key, None)  # the newest view is what the message already says
            return
        queue[key] = (view, ref)
        drain = self._drains.get(ref.chat_id)
        if drain is None or drain.done():
            self._drains[ref.chat_id] = asyncio.create_task(self._drain(ref.chat_id))

    async def deliver(self, reply_ref: str, view: JobView, images: Sequence[OutputImage]) -> list[str]:
        return await self.results.deliver(reply_ref, view, images)

    async def remove(self, refs: Sequence[str]) -> int:
        return await self.results.remove(refs)

    # --- paced sends for the adapter -------------------------------------------------------------

    async def send(self, chat_id: int, call: Callable[[], Awaitable[T]], *, answer: bool = False) -> T:
        """Run one Telegram call in the chat's turn; RetryAfter blocks only this chat, then we retry.

        `answer`: the call answers a command, so it goes ahead of job traffic (see pacing.py).
        """
        error: RetryAfter | None = None
        for _ in range(SEND_ATTEMPTS):
            async with self._pacer.turn(chat_id, answer=answer):
                try:
                    return await call()
                except RetryAfter as exc:
                    log.info("telegram asked chat %s to wait %.0fs", chat_id, retry_seconds(exc))
                    self._pacer.block(chat_id, retry_seconds(exc))
                    error = exc
        assert error is not None
        raise error

    def post(self, chat_id: int, call: Call, *, done: Done | None = None, failed: Failed | None = None) -> bool:
        """A command's answer: queued in the chat's outbox, sent in order ahead of job traffic; returns at once."""
        return self.outbox.post(chat_id, call, done=done, failed=failed)

    def answer_text(self, chat_id: int, text: str, *, reply_to: int | None = None,
                    markup: InlineKeyboardMarkup | None = None) -> None:
        """Answer a command with our HTML, in pages if longer than a message: the first replies, the last
        carries the buttons. Queued: returns before anything is sent."""
        pages = render.pages(text, render.MAX_TEXT)
        for n, page in enumerate(pages):
            last = n == len(pages) - 1
            self.post(chat_id, lambda page=page, n=n, last=last: self._bot.send_message(
                chat_id, page, parse_mode=ParseMode.HTML, reply_markup=markup if last else None,
                reply_parameters=reply_parameters(reply_to) if n == 0 else None))

    @property
    def idle(self) -> bool:
        """No answer waits or is being sent, and no status edit is pending: everything queued went out."""
        return self.outbox.idle and all(t.done() for t in self._drains.values())

    async def flush(self) -> None:
        """Wait until every queued answer and waiting status edit went out (tests, shutdown)."""
        await self.outbox.drain()
        for _ in range(1000):
            running = [t for t in self._drains.values() if not t.done()]
            if not running:
                return
            await asyncio.gather(*running, return_exceptions=True)

    async def close(self) -> None:
        await self.outbox.close()
        for task in self._drains.values():
            task.cancel()
        await asyncio.gather(*self._drains.values(), return_exceptions=True)
        self._drains.clear()

    # --- internals -------------------------------------------------------------------------------

    async def _drain(self, chat_id: int) -> None:
        queue = self._pending[chat_id]
        for _ in range(MAX_DRAIN_ROUNDS):
            if not queue:
                return
            shown: StatusRef | None = None
            async with self._pacer.turn(chat_id):
                if not queue:
                    return
                key, (view, ref) = queue.popitem(last=False)
                message_id = key if isinstance(key, int) else self._posted.get(view.job_id)
                if message_id is None:
                    shown = await self._post(chat_id, view, ref, queue)
                elif not self._shows(ref, message_id, view):
                    shown = await self._edit(chat_id, message_id, view, ref, queue)
            if shown is not None:  # stored after the turn: a database write never holds up the chat
                await self._record(view.job_id, shown)

    async def post_status(self, reply_ref: str, view: JobView) -> None:
        """Queue a new job's status message, its command's answer (the job is already persisted). Views shown
        before it is out wait for it, so every edit knows its message."""
        ref = StatusRef.decode(reply_ref)
        self._posting[view.job_id] = None

        async def posted(message: Message) -> None:
            newer = self._posting.pop(view.job_id, None)
            await self._remember(view.job_id, StatusRef(ref.chat_id, message.message_id, ref.reply_to,
                                                        self._digest(view)))
            if newer is not None:
                await self.show(reply_ref, newer)

        async def failed(exc: BaseException | None) -> None:  # the job runs regardless: its next view posts it
            log.warning("status message for job %s not posted (%s): it follows the next view", view.job_id, exc)
            newer = self._posting.pop(view.job_id, None)
            await self.show(reply_ref, newer or view)

        if not self.post(ref.chat_id, lambda: self._bot.send_message(
                ref.chat_id, render.status_text(view), parse_mode=ParseMode.HTML,
                reply_markup=self._codec.status_markup(view), reply_parameters=reply_parameters(ref.reply_to)),
                done=posted, failed=failed):
            await failed(None)

    async def _remember(self, job_id: str, ref: StatusRef) -> None:
        """The status message `ref` names now shows the content `ref.shown`: keep that, here and in the store."""
        self._note(job_id, ref)
        if self.on_posted is not None:
            await self.on_posted(job_id, ref.encode())

    def _note(self, job_id: str, ref: StatusRef) -> StatusRef:
        assert ref.message_id is not None
        self._posted[job_id] = ref.message_id
        if ref.shown is not None:
            self._shown[(ref.chat_id, ref.message_id)] = ref.shown
        return ref

    async def _record(self, job_id: str, ref: StatusRef) -> None:
        try:
            if self.on_posted is not None:
                await self.on_posted(job_id, ref.encode())
        except Exception:  # unrecorded, the worst is one "not modified" after a restart: never stop the drain
            log.warning("could not record the status message of job %s", job_id, exc_info=True)

    def _digest(self, view: JobView) -> str:
        return shown_digest(render.status_text(view), self._codec.status_markup(view))

    def _shows(self, ref: StatusRef, message_id: int, view: JobView) -> bool:
        """Does the status message already show exactly this view? (The reference may predate our last edit.)"""
        shown = self._shown.get((ref.chat_id, message_id)) or (ref.shown if ref.message_id == message_id else None)
        return shown is not None and shown == self._digest(view)

    async def _post(self, chat_id: int, view: JobView, ref: StatusRef, queue: Pending) -> StatusRef | None:
        try:
            message = await self._bot.send_message(
                chat_id, render.status_text(view), parse_mode=ParseMode.HTML,
                reply_markup=self._codec.status_markup(view), reply_parameters=reply_parameters(ref.reply_to))
        except RetryAfter as exc:
            self._pacer.block(chat_id, retry_seconds(exc))
            queue.setdefault(f"job:{view.job_id}", (view, ref))
            return None
        except TelegramError as exc:
            log.warning("status message for job %s could not be posted: %s", view.job_id, exc)
            return None
        return self._note(view.job_id, StatusRef(chat_id, message.message_id, ref.reply_to, self._digest(view)))

    async def _edit(self, chat_id: int, message_id: int, view: JobView, ref: StatusRef,
                    queue: Pending) -> StatusRef | None:
        try:
            await self._bot.edit_message_text(
                render.status_text(view), chat_id=chat_id, message_id=message_id, parse_mode=ParseMode.HTML,
                reply_markup=self._codec.status_markup(view))
        except RetryAfter as exc:
            self._pacer.block(chat_id, retry_seconds(exc))
            queue.setdefault(message_id, (view, ref))  # unless a newer view arrived meanwhile
            return None
        except BadRequest as exc:
            if "not modified" not in str(exc).lower():
                log.warning("status edit refused in chat %s: %s", chat_id, exc)
                return None
            # it already shows this (an edit we made but never recorded): the same as success
        except TelegramError as exc:
            log.warning("status edit failed in chat %s: %s", chat_id, exc)
            return None
        return self._note(view.job_id, StatusRef(chat_id, message_id, ref.reply_to, self._digest(view)))
