"""The Telegram adapter: builds the PTB Application, routes updates, owns the one error handler.

Updates arrive by long polling (PTB's Updater). Text commands and photo captions both go through one
MessageHandler and core's parser, since PTB's CommandHandler never sees captions; album members are
gathered for a short window and handled as one command. Edited messages have no handler at all, so an
edit never starts a second job. Every message's author is remembered by @username (see users.py).
"""

from __future__ import annotations

import dataclasses
import logging
from collections import OrderedDict
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from telegram import BotCommand, Message, Update
from telegram.error import TelegramError
from telegram.ext import Application, ApplicationBuilder, CallbackQueryHandler, ContextTypes, MessageHandler, filters

from adapters.telegram import render
from adapters.telegram.admins import AdminCache
from adapters.telegram.buttons import ButtonCodec
from adapters.telegram.callbacks import TelegramButtons
from adapters.telegram.commands import TelegramCommands
from adapters.telegram.consent import ConsentBook
from adapters.telegram.messenger import TelegramMessenger
from adapters.telegram.pacing import ChatPacer
from adapters.telegram.parsing import PLATFORM, actor_of, parse_incoming, place_of
from adapters.telegram.replies import PHRASING
from adapters.telegram.users import SeenUsers
from core.clock import Clock, SystemClock
from core.commands.answers import Answer
from core.commands.help import command_list
from core.commands.router import CommandRouter
from core.errors import UserError, word

if TYPE_CHECKING:
    from core.service import CastService

log = logging.getLogger(__name__)

OOPS = "Something went wrong on our side, nothing was charged. Please try again in a moment."
ALBUM_WINDOW = 1.0  # seconds to wait for the rest of an album after its first photo
CONCURRENT_UPDATES = 64  # updates handled at once, so one slow download never stalls other chats
ALLOWED_UPDATES = ["message", "callback_query"]  # no edited_message: edits never start jobs
MAX_OUTCOMES = 200  # recent events' outcomes kept for scripts and tests


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one event got: core's answer, or the user error the error handler words."""

    answer: Answer | None = None
    error: UserError | None = None


class TelegramAdapter:
    def __init__(self, service: CastService, *, token: str, api_url: str, clock: Clock | None = None,
                 poll_timeout: float = 10.0, album_window: float = ALBUM_WINDOW,
                 pacer: ChatPacer | None = None) -> None:
        self._service = service
        self._clock = clock or SystemClock()
        self._poll_timeout = poll_timeout
        self._album_window = album_window
        root = api_url.rstrip("/")
        self._app: Application = (
            ApplicationBuilder().token(token).base_url(f"{root}/bot").base_file_url(f"{root}/file/bot")
            .concurrent_updates(CONCURRENT_UPDATES).get_updates_read_timeout(poll_timeout + 10.0)
            .build()
        )
        bot = self._app.bot
        codec = ButtonCodec()
        consents = ConsentBook(self._clock)
        self.messenger = TelegramMessenger(bot, pacer=pacer or ChatPacer(self._clock), codec=codec,
                                           on_posted=service.rebind_reply)
        self._admins = AdminCache(bot, self._clock)
        self._seen = SeenUsers(service)
        self._commands = TelegramCommands(CommandRouter(service, PHRASING), bot, self.messenger, codec=codec,
                                          consents=consents, seen=self._seen)
        self._buttons = TelegramButtons(self._commands, bot, self.messenger, codec=codec, consents=consents)
        self._albums: dict[str, list[Message]] = {}
        # event id (`telegram:CHAT:MESSAGE`, `cb:QUERY`) -> its outcome, newest last
        self.outcomes: OrderedDict[str, Outcome] = OrderedDict()
        self._app.add_handler(MessageHandler(filters.UpdateType.MESSAGE, self._on_message))
        self._app.add_handler(CallbackQueryHandler(self._on_button))
        self._app.add_error_handler(self._on_error)

    async def start(self) -> None:
        """Initialize PTB (getMe), publish the command menu, register the messenger, start polling."""
        await self._app.initialize()
        await self._app.bot.set_my_commands([BotCommand(h.name, h.summary[:256]) for h in command_list(PHRASING)])
        self._service.register_messenger(PLATFORM, self.messenger)
        await self._app.start()
        assert self._app.updater is not None
        await self._app.updater.start_polling(poll_interval=0.0, timeout=int(self._poll_timeout),
                                              allowed_updates=ALLOWED_UPDATES)
        log.info("telegram adapter polling as @%s", self._app.bot.username)

    async def stop(self) -> None:
        if self._app.updater is not None and self._app.updater.running:
            await self._app.updater.stop()
        if self._app.running:
            await self._app.stop()
        await self.messenger.close()
        await self._app.shutdown()

    async def __aenter__(self) -> TelegramAdapter:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # --- handlers --------------------------------------------------------------------------------

    async def _on_message(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.message
        if message is None:
            return
        await self._seen.saw(message)
        group = message.media_group_id
        if group is None:
            await self._dispatch([message])
        elif group in self._albums:
            self._albums[group].append(message)
        else:
            self._albums[group] = [message]
            self._app.create_task(self._finish_album(group), update=update)

    async def _finish_album(self, group: str) -> None:
        await self._clock.sleep(self._album_window)
        messages = sorted(self._albums.pop(group, []), key=lambda m: m.message_id)
        await self._dispatch(messages)

    async def _dispatch(self, messages: list[Message]) -> None:
        inc = parse_incoming(messages, self._app.bot.username)
        if inc is None:
            return
        # A group's admins administer it. Nobody administers a private chat: an admin there could
        # lift their own quota (as on Discord, where DMs carry no admin rights either).
        if inc.place.scope_id == str(inc.chat_id):
            is_admin = await self._admins.is_admin(inc.chat_id, int(inc.actor.user_id))
            inc = dataclasses.replace(inc, actor=dataclasses.replace(inc.actor, is_admin=is_admin))
        log.debug("telegram command /%s in chat %s", inc.command.name, inc.chat_id)
        await self._noting(inc.event_id, self._commands.handle(inc))

    async def _on_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        if query is None or query.message is None:
            return
        user = query.from_user
        place = place_of(query.message, user)  # type: ignore[arg-type]
        is_admin = not place.scope_id.startswith("dm:") and await self._admins.is_admin(query.message.chat.id, user.id)
        await self._noting(f"cb:{query.id}", self._buttons.handle(query, actor_of(user, is_admin=is_admin), place))

    async def _noting(self, key: str, work: Coroutine[Any, Any, Answer | None]) -> None:
        """Run an event's work, keeping its outcome; a user error still goes on to the one error handler."""
        try:
            answer = await work
        except UserError as exc:
            self._note(key, Outcome(error=exc))
            raise
        self._note(key, Outcome(answer=answer))

    def _note(self, key: str, outcome: Outcome) -> None:
        self.outcomes[key] = outcome
        while len(self.outcomes) > MAX_OUTCOMES:
            self.outcomes.popitem(last=False)

    async def _on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        """The one error handler: a friendly line for the user; unexpected errors logged with traceback."""
        exc = context.error
        if isinstance(exc, UserError):
            text = word(exc, PHRASING)
        else:
            log.error("telegram update failed", exc_info=exc)
            text = OOPS
        if not isinstance(update, Update):
            return
        try:
            if update.callback_query is not None:
                await update.callback_query.answer(render.clip(text, 200), show_alert=True)
            elif update.effective_message is not None:
                message = update.effective_message
                self.messenger.answer_text(message.chat.id, render.escape(text), reply_to=message.message_id)
        except (TimeoutError, TelegramError) as reply_error:
            log.warning("could not tell the user about an error: %s", reply_error)
