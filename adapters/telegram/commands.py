"""Text commands on Telegram: core's parser makes the command, core's router runs it, the answer is shown.

Answers are queued in the chat's outbox (messenger.post): a handler never waits for the chat's pace.

Errors are not caught here: they travel to the adapter's single error handler, which words them with
this platform's Phrasing.
"""

from __future__ import annotations

from collections.abc import Sequence

from telegram import Bot
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden

from adapters.telegram import render, replies
from adapters.telegram.buttons import ButtonCodec
from adapters.telegram.consent import ConsentBook, PendingSave
from adapters.telegram.files import download
from adapters.telegram.messenger import StatusRef, TelegramMessenger
from adapters.telegram.parsing import Incoming
from adapters.telegram.users import SeenUsers, name_replied_user
from core.commands import answers as a
from core.commands import types as c
from core.commands.parser import to_command
from core.commands.router import CommandRouter
from core.errors import UserError
from core.types import Actor, Place


class TelegramCommands:
    def __init__(self, router: CommandRouter, bot: Bot, messenger: TelegramMessenger, *, codec: ButtonCodec,
                 consents: ConsentBook, seen: SeenUsers) -> None:
        self._router = router
        self._bot = bot
        self._messenger = messenger
        self._codec = codec
        self._consents = consents
        self._seen = seen

    async def handle(self, inc: Incoming) -> a.Answer:
        try:
            args = name_replied_user(inc.command.args, inc.replied) if inc.command.name == "admin" else inc.command.args
            command: c.Command = await self._seen.resolve(to_command(inc.command.name, args).command, inc.place)
            # Only commands that take images look at them: `/admin ban` replying to someone's PDF is still a ban.
            sources = inc.sources() if isinstance(command, c.Generate | c.CharacterSave) else ()
        except UserError as exc:  # core counts it against the sender's rate, then refuses it
            command, sources = c.Invalid(exc), ()
        answer = await self.execute(inc.actor, inc.place, command, sources, chat_id=inc.chat_id,
                                    reply_to=inc.message_id, event_id=inc.event_id)
        await self.show(answer, inc.actor, inc.place, command, sources, chat_id=inc.chat_id, reply_to=inc.message_id)
        return answer

    async def execute(self, actor: Actor, place: Place, command: c.Command, sources: Sequence[c.ImageSource] = (),
                      *, chat_id: int, reply_to: int | None, event_id: str,
                      confirmed_by: Actor | None = None) -> a.Answer:
        """Run one command; a started job gets its status message."""
        # The job is written before its status message is posted: a crash after Telegram handed us the
        # update can then never lose the command (the status message is posted on resume).
        reply_ref = StatusRef(chat_id, None, reply_to).encode()
        answer = await self._router.handle(actor, place, command, sources=sources, fetch=self._fetch,
                                           event_id=event_id, reply_ref=reply_ref, confirmed_by=confirmed_by)
        if isinstance(answer, a.JobAccepted):
            await self._messenger.post_status(reply_ref, answer.view)
        return answer

    async def show(self, answer: a.Answer, actor: Actor, place: Place, command: c.Command,
                   sources: Sequence[c.ImageSource], *, chat_id: int, reply_to: int | None) -> None:
        """The answer as this chat's messages (a started job already has its status message)."""
        match answer:
            case a.Ignored(leave=leave):
                if leave:  # core: an unlisted group that was told once; no more updates will come from it
                    await self._bot.leave_chat(chat_id)
            case a.JobAccepted() | a.Throttled():  # a job has its status message; a flood after its warning, nothing
                return
            case a.ConsentNeeded() if isinstance(command, c.CharacterSave | c.SaveFromJob):
                token = self._consents.add(PendingSave(actor, place, command, tuple(sources)))
                self._messenger.answer_text(chat_id, replies.answer_html(answer), reply_to=reply_to,
                                            markup=self._codec.consent_markup(token))
            case a.CharacterShown(view=view, image=image):
                caption = replies.character_caption(view.name, view.description)  # fits: fields are clipped
                self._messenger.post(chat_id, lambda: self._bot.send_photo(
                    chat_id, image, caption=caption, parse_mode=ParseMode.HTML))
            case _ if (why := a.private_reason(answer)) and chat_id != int(actor.user_id):
                await self._privately(answer, actor, why, chat_id=chat_id, reply_to=reply_to)
            case a.OriginalFiles(images=images):
                for image in images:
                    self._messenger.post(chat_id, lambda image=image: self._bot.send_document(
                        chat_id, image.data, filename=image.filename))
            case _:
                self._messenger.answer_text(chat_id, replies.answer_html(answer), reply_to=reply_to)

    async def _privately(self, answer: a.Answer, actor: Actor, why: str, *, chat_id: int,
                         reply_to: int | None) -> None:
        """Send `answer` to the admin's private chat; the group hears only where it went (or how to open it).
        Queued like every answer: the outcome of the private message's first page decides what the group hears."""
        private = int(actor.user_id)
        first, *rest = render.pages(replies.answer_html(answer), render.MAX_TEXT)

        async def sent(_: object) -> None:
            for page in rest:
                self._messenger.post(private, lambda page=page: self._bot.send_message(
                    private, page, parse_mode=ParseMode.HTML))
            self._messenger.answer_text(chat_id, replies.sent_privately(why), reply_to=reply_to)

        async def refused(exc: BaseException | None) -> None:
            if isinstance(exc, Forbidden | BadRequest):  # the bot may not write first: they must open the chat once
                self._messenger.answer_text(chat_id, replies.private_chat_needed(why), reply_to=reply_to)

        self._messenger.post(private, lambda: self._bot.send_message(private, first, parse_mode=ParseMode.HTML),
                             done=sent, failed=refused)

    async def _fetch(self, source: c.ImageSource) -> bytes:
        return await download(self._bot, source)
