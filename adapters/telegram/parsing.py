"""A Telegram message, answered as every platform event is: who, where, what text, which images, which id."""

from __future__ import annotations

from dataclasses import dataclass

from telegram import Message, User

from adapters.telegram.files import image_sources
from core.commands.parser import ParsedCommand, parse_command
from core.commands.types import ImageSource
from core.errors import NotAllowed
from core.types import Actor, Place

PLATFORM = "telegram"
ANONYMOUS = ("castbot can't tell who sent a message posted anonymously or as a channel, and saved faces, quota "
             "and bans each belong to one person. Send the command as yourself (turn off “Remain anonymous”, or "
             "pick your own account as the sender).")


@dataclass(frozen=True, slots=True)
class Incoming:
    """One command message (or album), split at the edge; core's parser makes the command from it."""

    actor: Actor
    place: Place
    command: ParsedCommand
    chat_id: int
    message_id: int
    album: tuple[Message, ...]  # the message, or every message of the album in order
    replied: Message | None  # the message the command replies to
    event_id: str

    def sources(self) -> tuple[ImageSource, ...]:
        """Positional images: the album's in order, then the replied-to message's. Raises ImageRejected for a
        document that is not an image."""
        messages = [*self.album, *([self.replied] if self.replied else [])]
        return tuple(source for message in messages for source in image_sources(message))


def actor_of(user: User, *, is_admin: bool = False) -> Actor:
    return Actor(PLATFORM, str(user.id), user.full_name or user.username or str(user.id), is_admin)


def place_of(message: Message, user: User) -> Place:
    """A group is its own scope; a private chat is the user's own scope."""
    chat_id = str(message.chat.id)
    scope = chat_id if message.chat.type != "private" else f"dm:{user.id}"
    return Place(PLATFORM, scope, chat_id)


def event_id(chat_id: int, message_id: int) -> str:
    """The platform event a command came from: a replayed update charges once."""
    return f"{PLATFORM}:{chat_id}:{message_id}"


def command_text(message: Message) -> str:
    return message.text or message.caption or ""


def parse_incoming(album: list[Message], bot_username: str) -> Incoming | None:
    """The Incoming for a message or album; None when it is no command for this bot.

    The command may be on any message of an album (Telegram puts the caption on the one the user
    captioned).
    """
    carrier = next((m for m in album if command_text(m).startswith("/")), None)
    if carrier is None or carrier.from_user is None:
        return None
    command = parse_command(command_text(carrier))
    if command is None or not _addressed_to_us(command, bot_username):
        return None
    if carrier.sender_chat is not None:
        # Refused, not mapped to the channel: anonymous admins all arrive as one user (1087968824) and posts "as
        # a channel" as another (136817688), so from_user names nobody; taking sender_chat.id as the user would
        # make one identity shared by every admin of that chat or channel. Consent to save a face, ownership,
        # quota and bans are each one person's, so castbot asks for the person instead.
        raise NotAllowed(ANONYMOUS, action="anonymous")
    user = carrier.from_user
    return Incoming(actor=actor_of(user), place=place_of(carrier, user), command=command, chat_id=carrier.chat.id,
                    message_id=carrier.message_id, album=tuple(album), replied=carrier.reply_to_message,
                    event_id=event_id(carrier.chat.id, carrier.message_id))


def _addressed_to_us(command: ParsedCommand, bot_username: str) -> bool:
    """`/cmd@castbot` is ours, `/cmd@otherbot` is not, a bare `/cmd` is."""
    return command.addressee is None or command.addressee.lower() == bot_username.lower()
