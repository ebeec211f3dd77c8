"""Inline button presses. Who may press what is core's decision (core.permissions); a refusal raised
by the service reaches the adapter's error handler, which answers the press with an alert."""

from __future__ import annotations

from typing import TYPE_CHECKING

from telegram import Bot, CallbackQuery

from adapters.telegram.buttons import Action, ButtonCodec
from adapters.telegram.commands import TelegramCommands
from adapters.telegram.consent import ConsentBook
from adapters.telegram.messenger import StatusRef, TelegramMessenger
from core.types import Actor, Place

if TYPE_CHECKING:
    from core.service import CastService

EXPIRED = "This button has expired. Send the command again."
SAVED = "Saved as “{name}”. Rename it with /character rename {name} NEWNAME"


class TelegramButtons:
    def __init__(self, service: CastService, bot: Bot, messenger: TelegramMessenger, *, codec: ButtonCodec,
                 consents: ConsentBook, commands: TelegramCommands) -> None:
        self._service = service
        self._bot = bot
        self._messenger = messenger
        self._codec = codec
        self._consents = consents
        self._commands = commands

    async def handle(self, query: CallbackQuery, actor: Actor, place: Place) -> None:
        decoded = self._codec.decode(query.data)
        if decoded is None or query.message is None:
            await query.answer(EXPIRED)
            return
        action, ident = decoded
        if action == Action.CONSENT:
            await self._consent(query, actor, ident)
            return
        chat_id = query.message.chat.id
        if action == Action.CANCEL:
            await self._service.cancel(actor, place, ident)
            await query.answer("Cancelling…")
        elif action in (Action.REROLL, Action.SAME_SEED):
            # as for commands: the job is written first, then its status message is posted
            reply_ref = StatusRef(chat_id, None, query.message.message_id).encode()
            new = await self._service.reroll(actor, place, ident, same_seed=action == Action.SAME_SEED,
                                             idem_key=f"telegram:cb:{query.id}", reply_ref=reply_ref)
            await query.answer("Re-rolling…")
            await self._messenger.post_status(reply_ref, new)
        elif action == Action.SAVE:
            # A button carries no name: save under a placeholder the user can rename right away.
            saved = await self._service.save_character_from_job(actor, place, job_id=ident, name=f"look-{ident[:6]}")
            await query.answer(SAVED.format(name=saved.name), show_alert=True)
        elif action == Action.DOCUMENT:
            images = await self._service.outputs(actor, place, ident)  # a refusal answers the press instead
            await query.answer("Sending the original files…")
            for image in images:
                await self._messenger.send(chat_id, lambda image=image: self._bot.send_document(
                    chat_id, image.data, filename=image.filename))
        elif action == Action.DELETE:
            await self._service.delete_output(actor, place, ident)
            message_id = query.message.message_id
            await self._messenger.send(chat_id, lambda: self._bot.delete_message(chat_id, message_id))
            await query.answer("Deleted.")

    async def _consent(self, query: CallbackQuery, actor: Actor, token: str) -> None:
        pending = self._consents.peek(token)
        if pending is None:
            await query.answer(EXPIRED)
            return
        assert query.message is not None
        await self._commands.save(pending, query.message.chat.id, None, confirmed_by=actor)
        await query.answer("Saved.")
        self._consents.take(token)  # only now: a failed save can be confirmed again
