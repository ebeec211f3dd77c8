"""Inline button presses: each button is a core command for the router; who may press is core's decision.

A refusal raised by the service reaches the adapter's error handler, which answers the press with an alert.
"""

from __future__ import annotations

import dataclasses
import logging

from telegram import Bot, CallbackQuery
from telegram.error import BadRequest

from adapters.telegram.buttons import Action, ButtonCodec
from adapters.telegram.commands import TelegramCommands
from adapters.telegram.consent import ConsentBook
from adapters.telegram.messenger import TelegramMessenger
from core.commands import answers as a
from core.commands import types as c
from core.moderation.logtext import REPORTED
from core.types import Actor, Place

log = logging.getLogger(__name__)

EXPIRED = "This button has expired. Send the command again."
SAVED = "Saved as “{name}”. Rename it with /character rename {name} NEWNAME"


def button_command(action: Action, job_id: str) -> c.Command:
    """The command a job's button stands for. A button carries no name: Save keeps the first image under a
    placeholder the user can rename right away."""
    match action:
        case Action.CANCEL:
            return c.Cancel(job_id)
        case Action.REROLL | Action.SAME_SEED:
            return c.Reroll(job_id, same_seed=action == Action.SAME_SEED)
        case Action.SAVE:
            return c.SaveFromJob(job_id, name=f"look-{job_id[:6]}", index=0)
        case Action.DOCUMENT:
            return c.Originals(job_id)
        case Action.DELETE:
            return c.DeleteOutput(job_id)
        case Action.REPORT:
            return c.Report(job_id)
    raise ValueError(f"not a job button: {action}")


class TelegramButtons:
    def __init__(self, commands: TelegramCommands, bot: Bot, messenger: TelegramMessenger, *, codec: ButtonCodec,
                 consents: ConsentBook) -> None:
        self._commands = commands
        self._bot = bot
        self._messenger = messenger
        self._codec = codec
        self._consents = consents

    async def handle(self, query: CallbackQuery, actor: Actor, place: Place) -> a.Answer | None:
        decoded = self._codec.decode(query.data)
        if decoded is None or query.message is None:
            await query.answer(EXPIRED)
            return None
        action, ident = decoded
        if action == Action.CONSENT:
            return await self._consent(query, actor, ident)
        chat_id, message_id = query.message.chat.id, query.message.message_id
        answer = await self._commands.execute(actor, place, button_command(action, ident), chat_id=chat_id,
                                              reply_to=message_id, event_id=f"telegram:cb:{query.id}")
        match answer:
            case a.Throttled():  # the presser flooded and was told once: the press just ends
                await query.answer()
            case a.Cancelled():
                await query.answer("Cancelling…")
            case a.JobAccepted():
                await query.answer("Re-rolling…")
            case a.CharacterSaved(view=view):
                await query.answer(SAVED.format(name=view.name), show_alert=True)
            case a.ConsentNeeded():  # the face was never confirmed (a raw photo, a deleted character): ask
                await query.answer()
                await self._commands.show(answer, actor, place, button_command(action, ident), (), chat_id=chat_id,
                                          reply_to=message_id)
            case a.OriginalFiles():
                await query.answer("Sending the original files…")
                await self._commands.show(answer, actor, place, c.Originals(ident), (), chat_id=chat_id,
                                          reply_to=None)
            case a.Ignored():
                await query.answer()
            case a.OutputDeleted(messages=messages):
                if not messages:  # a result from before castbot kept its messages: the pressed one goes
                    self._delete(chat_id, message_id)
                await query.answer("Deleted.")
            case a.Reported():
                await query.answer(REPORTED, show_alert=True)  # only the presser sees it
        return answer

    async def _consent(self, query: CallbackQuery, actor: Actor, token: str) -> a.Answer | None:
        pending = self._consents.peek(token)
        if pending is None:
            await query.answer(EXPIRED)
            return None
        assert query.message is not None
        chat_id = query.message.chat.id
        command = dataclasses.replace(pending.command, consent=True)
        # the saver's command, confirmed by whoever pressed: core decides whether they may (only the saver)
        answer = await self._commands.execute(pending.actor, pending.place, command, pending.sources,
                                              chat_id=chat_id, reply_to=None, event_id=f"telegram:cb:{query.id}",
                                              confirmed_by=actor)
        if isinstance(answer, a.Throttled):  # the presser flooded: the save still waits for a press
            await query.answer()
            return answer
        await query.answer("Saved.")
        await self._commands.show(answer, pending.actor, pending.place, command, pending.sources, chat_id=chat_id,
                                  reply_to=None)
        self._consents.take(token)  # only now: a failed save can be confirmed again
        return answer

    def _delete(self, chat_id: int, message_id: int) -> None:
        async def delete() -> None:
            try:
                await self._bot.delete_message(chat_id, message_id)
            except BadRequest as exc:  # already deleted (a second press): nothing left to do
                log.info("result message %s in chat %s was not deleted: %s", message_id, chat_id, exc.message)

        self._messenger.post(chat_id, delete)
