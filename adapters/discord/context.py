"""Who, where and which event an interaction is — and the adapter's one error handler.

Every command and button answers the same questions through these helpers, so the Request core gets
is built the same way everywhere.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass

import discord

from core.clock import Clock
from core.errors import UserError, word
from core.phrasing import Phrasing
from core.types import Actor, Place

log = logging.getLogger(__name__)

PLATFORM = "discord"
# How core's errors and help name things here: slash options, attachment options, the user option.
PHRASING = Phrasing(
    PLATFORM, option_format="`{name}`",
    option_names={"n": "count", "neg": "negative", "char": "character", "daily": "daily_units",
                  "pool": "pool_units", "unlimited-admins": "unlimited_admins"},
    offered=frozenset({"n", "seed", "neg"}),
    attach={"character": "the `image` option", "pose": "the `pose_image` option",
            "scene": "the `scene_image` option"},
    saved_character="the `character` option", name_user="the `user` option", value_format="{name}:{value}",
)
NO_MENTIONS = discord.AllowedMentions.none()  # user text is shown, never pinged
OOPS = "Something went wrong on our side, nothing was charged. Please try again in a moment."


def actor_of(interaction: discord.Interaction) -> Actor:
    user = interaction.user
    perms = interaction.permissions
    # Manage Server is what the /admin group asks for by default; core checks is_admin again.
    is_admin = interaction.guild_id is not None and (perms.manage_guild or perms.administrator)
    return Actor(PLATFORM, str(user.id), user.display_name, is_admin=bool(is_admin))


def place_of(interaction: discord.Interaction) -> Place:
    scope = str(interaction.guild_id) if interaction.guild_id else f"dm:{interaction.user.id}"
    # The channel's own NSFW flag, as Discord sends it with the interaction (a thread asks its parent; a DM
    # or a channel discord.py can't see reads as not NSFW). Core decides what the flag means.
    is_nsfw = getattr(interaction.channel, "is_nsfw", None)
    return Place(PLATFORM, scope, str(interaction.channel_id or ""), nsfw=bool(callable(is_nsfw) and is_nsfw()))


def idem_key(interaction: discord.Interaction) -> str:
    return f"{PLATFORM}:{interaction.id}"


@dataclass(frozen=True, slots=True)
class ReplyRef:
    """Where a job's status lives: the interaction's original response, or the channel once expired.

    Persisted with the job as compact JSON; the interaction token is only usable for 15 minutes. It also
    keeps what the status message last showed, so a restarted process does not repeat an identical edit.
    """

    app_id: int
    token: str
    channel_id: int
    user_id: int
    created: float  # clock time the interaction arrived, to know when its token expires
    message_id: int = 0  # the status message itself, editable through the channel once the token is gone
    upload_limit: int = 0  # bytes per file Discord allows where the interaction came from; 0 = unknown
    shown: str = ""  # digest of the content and buttons the status message last showed

    def dumps(self) -> str:
        return json.dumps([self.app_id, self.token, self.channel_id, self.user_id, self.created, self.message_id,
                           self.upload_limit, self.shown], separators=(",", ":"))

    @classmethod
    def loads(cls, text: str) -> ReplyRef:
        app_id, token, channel_id, user_id, created, *rest = json.loads(text)
        given = rest[:3]  # older references lack the later fields
        message_id, upload_limit, shown = [*given, *(0, 0, "")[len(given):]]
        return cls(int(app_id), str(token), int(channel_id), int(user_id), float(created), int(message_id),
                   int(upload_limit), str(shown))


async def defer_status(interaction: discord.Interaction, clock: Clock) -> str:
    """Defer publicly ("thinking"); that message becomes the job's status. Returns its reply reference."""
    response = await interaction.response.defer(thinking=True)
    message_id = response.message_id if response is not None and response.message_id else 0
    return ReplyRef(interaction.application_id, interaction.token, interaction.channel_id or 0,
                    interaction.user.id, clock.now(), message_id, interaction.filesize_limit).dumps()


async def say(interaction: discord.Interaction, text: str, *, ephemeral: bool = True) -> None:
    """Answer an interaction whether or not it has been deferred yet."""
    if not interaction.response.is_done():
        await interaction.response.send_message(text, ephemeral=ephemeral, allowed_mentions=NO_MENTIONS)
        return
    thinking = interaction.response.type == discord.InteractionResponseType.deferred_channel_message
    if ephemeral and thinking:
        # A deferred public "thinking" message would otherwise linger above the private answer. (After a
        # button's deferred update the original is the job's own message: that one stays.)
        try:
            await interaction.delete_original_response()
        except discord.HTTPException:
            log.debug("no original response to remove for interaction %s", interaction.id)
    await interaction.followup.send(text, ephemeral=ephemeral, allowed_mentions=NO_MENTIONS)


async def report_error(interaction: discord.Interaction, exc: BaseException) -> None:
    """The adapter's one error handler: friendly text for the user, a traceback in the log for us."""
    original = getattr(exc, "original", None) or exc.__cause__ or exc
    if isinstance(exc, UserError):
        text = word(exc, PHRASING)
    elif isinstance(original, UserError):
        text = word(original, PHRASING)
    else:
        log.error("interaction %s failed", interaction.id, exc_info=exc)
        text = OOPS
    try:
        await say(interaction, discord.utils.escape_mentions(text))
    except discord.HTTPException as send_error:
        log.warning("could not tell the user about an error: %s", send_error.__class__.__name__)
