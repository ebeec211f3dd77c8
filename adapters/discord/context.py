"""Who, where and which event an interaction is — and the adapter's one error handler.

Every command and button answers the same questions through these helpers, so the Request core gets
is built the same way everywhere.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass

import discord

from core.clock import Clock
from core.errors import UserError
from core.types import Actor, Place

log = logging.getLogger(__name__)

PLATFORM = "discord"
# Core's messages name options the text-command way (`--n`, `--char NAME`); say them the slash way.
_SLASH_NAMES = {"--char NAME": "the `character` option", "--char": "`character`", "--n": "`count`",
                "--neg": "`negative`", "--seed": "`seed`", "--model": "`model`"}
_FLAG = re.compile(r"--char NAME|--[a-z][a-z-]*")
OOPS = "Something went wrong on our side, nothing was charged. Please try again in a moment."


def actor_of(interaction: discord.Interaction) -> Actor:
    user = interaction.user
    perms = interaction.permissions
    # Manage Server is what the /admin group asks for by default; core checks is_admin again.
    is_admin = interaction.guild_id is not None and (perms.manage_guild or perms.administrator)
    return Actor(PLATFORM, str(user.id), user.display_name, is_admin=bool(is_admin))


def place_of(interaction: discord.Interaction) -> Place:
    scope = str(interaction.guild_id) if interaction.guild_id else f"dm:{interaction.user.id}"
    return Place(PLATFORM, scope, str(interaction.channel_id or ""))


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
        await interaction.response.send_message(text, ephemeral=ephemeral)
        return
    if ephemeral:
        # A deferred public "thinking" message would otherwise linger above the private answer.
        try:
            await interaction.delete_original_response()
        except discord.HTTPException:
            log.debug("no original response to remove for interaction %s", interaction.id)
    await interaction.followup.send(text, ephemeral=ephemeral)


def slash_wording(text: str) -> str:
    return _FLAG.sub(lambda m: _SLASH_NAMES.get(m.group(0), m.group(0)), text)


async def report_error(interaction: discord.Interaction, exc: BaseException) -> None:
    """The adapter's one error handler: friendly text for the user, a traceback in the log for us."""
    original = getattr(exc, "original", None) or exc.__cause__ or exc
    if isinstance(exc, UserError):
        text = str(exc)
    elif isinstance(original, UserError):
        text = str(original)
    else:
        log.error("interaction %s failed", interaction.id, exc_info=exc)
        text = OOPS
    try:
        await say(interaction, slash_wording(text))
    except discord.HTTPException as send_error:
        log.warning("could not tell the user about an error: %s", send_error.__class__.__name__)
