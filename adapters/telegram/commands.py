"""What each text command does on Telegram: parse with core.grammar, call the CastService, reply.

Errors are not caught here: they travel to the adapter's single error handler.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from telegram import Bot
from telegram.constants import ParseMode

from adapters.telegram import render
from adapters.telegram.buttons import ButtonCodec
from adapters.telegram.consent import ConsentBook, PendingSave
from adapters.telegram.files import download
from adapters.telegram.messenger import StatusRef, TelegramMessenger
from adapters.telegram.parsing import Incoming
from core.catalog import build_payload, get_model
from core.errors import InvalidParameter, NotAllowed
from core.grammar import GENERATION_COMMANDS, help_text, parse_flags, parse_generation, split_args
from core.types import ImageInput, ImageRole, Request

if TYPE_CHECKING:
    from core.service import CastService

log = logging.getLogger(__name__)

START_TEXT = (
    "Hi! I draw the same character again and again, in new poses and scenes.\n"
    "1. Send a photo captioned /character save NAME --consent\n"
    "2. Then /imagine --char NAME on a beach at sunset\n"
)
_CONSENT_WORDS = {"--consent", "yes"}


class TelegramCommands:
    def __init__(self, service: CastService, bot: Bot, messenger: TelegramMessenger, *, codec: ButtonCodec,
                 consents: ConsentBook) -> None:
        self._service = service
        self._bot = bot
        self._messenger = messenger
        self._codec = codec
        self._consents = consents

    async def handle(self, inc: Incoming) -> None:
        name = inc.command.name
        if name in GENERATION_COMMANDS:
            await self._generate(inc)
        elif name in ("start", "help"):
            text = help_text(inc.command.args or None)
            await self.reply(inc, render.escape(START_TEXT + text if name == "start" else text))
        elif name == "character":
            await self._character(inc)
        elif name == "quota":
            await self.reply(inc, render.quota_text(await self._service.quota(inc.actor, inc.place)))
        elif name == "history":
            await self.reply(inc, render.history_text(await self._service.history(inc.actor, inc.place)))
        elif name == "cancel":
            view = await self._service.cancel(inc.actor, inc.place, inc.command.args.strip() or None)
            await self.reply(inc, f"Cancelling <code>{render.escape(view.job_id)}</code>.")
        elif name == "admin":
            await self._admin(inc)
        else:
            await self.reply(inc, f"I don't know /{render.escape(name)}. Send /help for the list.")

    async def reply(self, inc: Incoming, text: str) -> None:
        await self._messenger.send_text(inc.chat_id, text, reply_to=inc.message_id)

    async def _generate(self, inc: Incoming) -> None:
        gen = parse_generation(inc.command.name, inc.command.args)
        model = get_model(gen.model)
        # Check the flags now, before downloading images or posting a status message; a saved character's
        # description may stand in for a prompt, so its name stands in for one here.
        build_payload(model, prompt=gen.prompt or (gen.character or ""), negative=gen.negative, flags=gen.flags)
        slots = [s for s in model.images if not (gen.character and s.role == ImageRole.CHARACTER)]
        refs = inc.image_refs()
        needed = sum(1 for s in slots if s.required)
        if len(refs) < needed:
            raise InvalidParameter(_missing_images(inc.command.name, [s.role for s in slots], gen.character))
        images = tuple([ImageInput(slot.role, await download(self._bot, ref), filename=ref.name, mime=ref.mime)
                        for slot, ref in zip(slots, refs, strict=False)])
        # The job is written before its status message is posted: a crash after Telegram handed us the
        # update can then never lose the command (the status message is posted on resume).
        reply_ref = StatusRef(inc.chat_id, None, inc.message_id).encode()
        request = Request(
            actor=inc.actor, place=inc.place, model=gen.model, prompt=gen.prompt, negative=gen.negative,
            character_name=gen.character, images=images, params=dict(gen.flags), idem_key=inc.idem_key,
            reply_ref=reply_ref,
        )
        view = await self._service.submit(request)
        await self._messenger.post_status(reply_ref, view)

    async def _character(self, inc: Incoming) -> None:
        words = split_args(inc.command.args)
        sub = words[0].lower() if words else "list"
        rest = words[1:]
        if sub == "save":
            await self._save(inc, rest)
        elif sub == "list":
            chars = await self._service.characters(inc.place, prefix=rest[0] if rest else "")
            await self.reply(inc, render.characters_text(chars))
        elif sub == "show" and rest:
            view, image = await self._service.character(inc.place, rest[0])
            caption = f"<b>{render.escape(view.name)}</b>\n{render.escape(view.description)}".strip()
            await self._messenger.send(inc.chat_id, lambda: self._bot.send_photo(
                inc.chat_id, image, caption=render.fit(caption, render.MAX_CAPTION), parse_mode=ParseMode.HTML))
        elif sub == "rename" and len(rest) == 2:
            view = await self._service.rename_character(inc.actor, inc.place, rest[0], rest[1])
            await self.reply(inc, f"Renamed to <b>{render.escape(view.name)}</b>.")
        elif sub == "delete" and rest:
            await self._service.delete_character(inc.actor, inc.place, rest[0])
            await self.reply(inc, f"Deleted <b>{render.escape(rest[0])}</b>.")
        else:
            raise InvalidParameter("Use /character save NAME, list, show NAME, rename OLD NEW or delete NAME.")

    async def _save(self, inc: Incoming, words: list[str]) -> None:
        consent = any(w.lower() in _CONSENT_WORDS for w in words)
        words = [w for w in words if w.lower() not in _CONSENT_WORDS]
        if not words:
            raise InvalidParameter("Give the character a name: /character save Luna")
        refs = inc.image_refs()
        if not refs:
            raise InvalidParameter("Send /character save NAME as the caption of a photo, or reply to a photo with it.")
        pending = PendingSave(inc.actor, inc.place, words[0], " ".join(words[1:]),
                              await download(self._bot, refs[0]))
        if consent:
            await self.save(pending, inc.chat_id, inc.message_id)
            return
        token = self._consents.add(pending)
        await self._messenger.send_text(
            inc.chat_id, f"Only save a face you have the right to use. Press the button to confirm you may use "
            f"this face for <b>{render.escape(pending.name)}</b>.", reply_to=inc.message_id,
            markup=self._codec.consent_markup(token))

    async def save(self, pending: PendingSave, chat_id: int, reply_to: int | None) -> None:
        view = await self._service.save_character(pending.actor, pending.place, name=pending.name,
                                                  image=pending.image, description=pending.description,
                                                  consent=True)
        await self._messenger.send_text(chat_id, f"Saved <b>{render.escape(view.name)}</b>. Try /imagine --char "
                                        f"{render.escape(view.name)} in a forest", reply_to=reply_to)

    async def _admin(self, inc: Incoming) -> None:
        if not inc.actor.is_admin:
            raise NotAllowed("Only this group's admins can use /admin.")
        words, flags = parse_flags(inc.command.args)
        sub = words[0].lower() if words else ""
        if sub == "quota" and flags:
            changes = {key.replace("-", "_"): value for key, value in flags.items()}
            await self.reply(inc, render.escape(await self._service.set_policy(inc.actor, inc.place, **changes)))
        elif sub in ("ban", "unban") and len(words) == 2:
            await self._service.ban(inc.actor, inc.place, words[1], banned=sub == "ban")
            await self.reply(inc, f"User {render.escape(words[1])} {'banned' if sub == 'ban' else 'unbanned'}.")
        elif sub == "stats":
            stats = await self._service.stats(inc.actor, inc.place)
            states = ", ".join(f"{k}: {v}" for k, v in sorted(stats.jobs_by_state.items())) or "none"
            await self.reply(inc, f"Jobs: {states}\nUnits spent: {stats.units_spent}\nUsers: {stats.users}\n"
                             f"Characters: {stats.characters}")
        else:
            await self.reply(inc, render.escape(help_text("admin")))


def _missing_images(command: str, roles: list[ImageRole], character: str | None) -> str:
    wanted = " and ".join(f"a {role} photo" for role in roles)
    how = "send them as an album captioned with the command" if len(roles) > 1 else (
        "send it with the command as the photo's caption, or reply to a photo with the command")
    saved = "" if character else " (or use --char NAME for a saved character)"
    return f"/{command} needs {wanted}: {how}{saved}."
