"""Text commands on Telegram: core's parser makes the command, core's router runs it, the answer is shown.

Errors are not caught here: they travel to the adapter's single error handler, which words them with
this platform's Phrasing.
"""

from __future__ import annotations

from collections.abc import Sequence

from telegram import Bot
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden

from adapters.telegram import replies
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
        args = name_replied_user(inc.command.args, inc.replied) if inc.command.name == "admin" else inc.command.args
        command = await self._seen.resolve(to_command(inc.command.name, args).command, inc.place)
        # Only commands that take images look at them: `/admin ban` replying to someone's PDF is still a ban.
        sources = inc.sources() if isinstance(command, c.Generate | c.CharacterSave) else ()
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
            case a.JobAccepted():
                return
            case a.ConsentNeeded() if isinstance(command, c.CharacterSave | c.SaveFromJob):
                token = self._consents.add(PendingSave(actor, place, command, tuple(sources)))
                await self._messenger.send_text(chat_id, replies.answer_html(answer), reply_to=reply_to,
                                                markup=self._codec.consent_markup(token))
            case a.CharacterShown(view=view, image=image):
                caption = replies.character_caption(view.name, view.description)  # fits: fields are clipped
                await self._messenger.send(chat_id, lambda: self._bot.send_photo(
                    chat_id, image, caption=caption, parse_mode=ParseMode.HTML), answer=True)
            case a.LogPage() if chat_id != int(actor.user_id):  # prompts: never in the group, only to the admin
                await self._privately(answer, actor, chat_id=chat_id, reply_to=reply_to)
            case a.OriginalFiles(images=images):
                for image in images:
                    await self._messenger.send(chat_id, lambda image=image: self._bot.send_document(
                        chat_id, image.data, filename=image.filename), answer=True)
            case _:
                await self._messenger.send_text(chat_id, replies.answer_html(answer), reply_to=reply_to)

    async def _privately(self, answer: a.Answer, actor: Actor, *, chat_id: int, reply_to: int | None) -> None:
        try:
            await self._messenger.send_text(int(actor.user_id), replies.answer_html(answer))
        except (Forbidden, BadRequest):  # the bot may not write first: they must open the private chat once
            await self._messenger.send_text(chat_id, replies.PRIVATE_CHAT_NEEDED, reply_to=reply_to)
            return
        await self._messenger.send_text(chat_id, replies.SENT_PRIVATELY, reply_to=reply_to)

    async def _fetch(self, source: c.ImageSource) -> bytes:
        return await download(self._bot, source)
