"""A Telegram message, answered as every platform event is: who, where, what text, which images, which id."""

from __future__ import annotations

from dataclasses import dataclass

from telegram import Message, User

from adapters.telegram.files import FileRef, image_refs
from core.grammar import ParsedCommand, parse_command
from core.types import Actor, Place

PLATFORM = "telegram"


@dataclass(frozen=True, slots=True)
class Incoming:
    """One command message (or album), parsed at the edge."""

    actor: Actor
    place: Place
    command: ParsedCommand
    chat_id: int
    message_id: int
    sources: tuple[Message, ...]  # the message (album, in order), then the message replied to
    idem_key: str

    def image_refs(self) -> list[FileRef]:
        """Images in order; raises ImageRejected for a document that is not an image."""
        return [ref for message in self.sources for ref in image_refs(message)]


def actor_of(user: User, *, is_admin: bool = False) -> Actor:
    return Actor(PLATFORM, str(user.id), user.full_name or user.username or str(user.id), is_admin)


def place_of(message: Message, user: User) -> Place:
    """A group is its own scope; a private chat is the user's own scope."""
    chat_id = str(message.chat.id)
    scope = chat_id if message.chat.type != "private" else f"dm:{user.id}"
    return Place(PLATFORM, scope, chat_id)


def command_text(message: Message) -> str:
    return message.text or message.caption or ""


def parse_incoming(album: list[Message], bot_username: str, *, is_admin: bool = False) -> Incoming | None:
    """Build the Incoming for a message or album; None when it is no command for this bot.

    The command may be on any message of an album (Telegram puts the caption on the one the user
    captioned); images come from every album member, in order, then from the message replied to.
    """
    carrier = next((m for m in album if command_text(m).startswith("/")), None)
    if carrier is None or carrier.from_user is None:
        return None
    command = parse_command(command_text(carrier))
    if command is None or not _addressed_to_us(command, bot_username):
        return None
    sources = [*album, *([carrier.reply_to_message] if carrier.reply_to_message else [])]
    user = carrier.from_user
    return Incoming(
        actor=actor_of(user, is_admin=is_admin),
        place=place_of(carrier, user),
        command=command,
        chat_id=carrier.chat.id,
        message_id=carrier.message_id,
        sources=tuple(sources),
        idem_key=f"{PLATFORM}:{carrier.chat.id}:{carrier.message_id}",
    )


def _addressed_to_us(command: ParsedCommand, bot_username: str) -> bool:
    """`/cmd@castbot` is ours, `/cmd@otherbot` is not, a bare `/cmd` is."""
    return command.addressee is None or command.addressee.lower() == bot_username.lower()
