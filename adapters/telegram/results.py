"""A job's result messages on Telegram: photos (albums of up to ten, spoiler covers kept), documents for what
cannot be a photo, one message carrying the buttons — and removing them again (an admin's /admin remove).

Every call goes through the messenger's paced `send`, so results share the chat's turns with status edits.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from telegram import Bot, InputMediaPhoto, Message, ReplyParameters
from telegram.constants import ParseMode
from telegram.error import BadRequest, TelegramError

from adapters.telegram import render
from adapters.telegram.buttons import ButtonCodec
from adapters.telegram.files import photo_bytes
from adapters.telegram.statusref import StatusRef
from core.types import JobView, OutputImage

log = logging.getLogger(__name__)

ALBUM_MAX = 10
Send = Callable[[int, Callable[[], Awaitable[Any]]], Awaitable[Any]]  # one paced call in a chat


class Results:
    def __init__(self, bot: Bot, codec: ButtonCodec, send: Send) -> None:
        self._bot = bot
        self._codec = codec
        self.send = send

    async def deliver(self, reply_ref: str, view: JobView, images: Sequence[OutputImage]) -> list[str]:
        """Posts the results; returns `chat:message` handles of everything posted (for a later removal)."""
        ref = StatusRef.decode(reply_ref)
        markup = self._codec.result_markup(view.job_id)
        caption = render.result_caption(view)
        photos: list[tuple[bytes, bool]] = []  # (bytes, behind a spoiler cover)
        documents: list[OutputImage] = []
        for image in images:
            data = photo_bytes(image)
            if data is None:
                documents.append(image)
            else:
                photos.append((data, image.spoiler))
        if len(photos) == 1 and not documents:
            sent = await self.send(ref.chat_id, lambda: self._bot.send_photo(
                ref.chat_id, photos[0][0], caption=caption, parse_mode=ParseMode.HTML, reply_markup=markup,
                reply_parameters=reply_parameters(ref.reply_to), has_spoiler=photos[0][1]))
            return [_handle(sent)]
        posted = await self._send_albums(ref, photos, caption)
        for image in documents:
            posted.append(await self.send(ref.chat_id, lambda image=image: self._bot.send_document(
                ref.chat_id, image.data, filename=image.filename)))
        try:  # the images are out: a lost button message must not make the engine send them twice
            posted.append(await self.send(ref.chat_id, lambda: self._bot.send_message(
                ref.chat_id, caption or "Your images are ready.", parse_mode=ParseMode.HTML, reply_markup=markup)))
        except TelegramError as exc:
            log.warning("images of job %s delivered, their buttons not: %s", view.job_id, exc)
        return [_handle(message) for message in posted]

    async def remove(self, refs: Sequence[str]) -> int:
        """Delete posted results (`chat:message` handles); returns how many went (not those Telegram refused)."""
        removed = 0
        for ref in refs:
            chat_id, message_id = (int(part) for part in ref.split(":", 1))
            try:
                await self.send(chat_id, lambda c=chat_id, m=message_id: self._bot.delete_message(c, m))
            except BadRequest as exc:  # gone already, or older than Telegram lets a bot delete (48 h)
                log.info("result message %s in chat %s not deleted: %s", message_id, chat_id, exc.message)
                continue
            removed += 1
        return removed

    async def _send_albums(self, ref: StatusRef, photos: list[tuple[bytes, bool]], caption: str) -> list[Message]:
        posted: list[Message] = []
        for start in range(0, len(photos), ALBUM_MAX):
            chunk = photos[start:start + ALBUM_MAX]
            text = caption if start == 0 else None
            if len(chunk) == 1:
                posted.append(await self.send(ref.chat_id, lambda chunk=chunk, text=text: self._bot.send_photo(
                    ref.chat_id, chunk[0][0], caption=text, parse_mode=ParseMode.HTML,
                    reply_parameters=reply_parameters(ref.reply_to), has_spoiler=chunk[0][1])))
                continue
            media = [InputMediaPhoto(data, caption=text if i == 0 else None, parse_mode=ParseMode.HTML,
                                     has_spoiler=spoiler) for i, (data, spoiler) in enumerate(chunk)]
            posted += await self.send(ref.chat_id, lambda media=media: self._bot.send_media_group(
                ref.chat_id, media, reply_parameters=reply_parameters(ref.reply_to)))
        return posted


def _handle(message: Message) -> str:
    return f"{message.chat_id}:{message.message_id}"


def reply_parameters(message_id: int | None) -> ReplyParameters | None:
    if message_id is None:
        return None
    return ReplyParameters(message_id=message_id, allow_sending_without_reply=True)
