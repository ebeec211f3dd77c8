"""Button presses: Re-roll, Same seed, Save as character, Delete, Cancel.

A press names only an action and a job id, so it works on messages sent before a restart. Only the
job's owner may press (admins may also Cancel and Delete); anyone else gets a private refusal and
nothing changes.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import discord

from adapters.discord.context import actor_of, defer_status, idem_key, place_of, report_error
from adapters.discord.messenger import DiscordMessenger
from adapters.discord.views import SaveCharacterModal
from core.clock import Clock
from core.types import Actor, JobView

if TYPE_CHECKING:
    from core.service import CastService

log = logging.getLogger(__name__)

ADMIN_ACTIONS = frozenset({"cancel", "delete"})


def may_press(action: str, actor: Actor, view: JobView) -> bool:
    return actor.user_id == view.owner_id or (action in ADMIN_ACTIONS and actor.is_admin)


class ButtonActions:
    def __init__(self, service: CastService, messenger: DiscordMessenger, *, clock: Clock) -> None:
        self.service = service
        self.messenger = messenger
        self.clock = clock

    async def handle(self, action: str, job_id: str, interaction: discord.Interaction) -> None:
        try:
            await self._handle(action, job_id, interaction)
        except Exception as exc:
            await report_error(interaction, exc)

    async def _handle(self, action: str, job_id: str, interaction: discord.Interaction) -> None:
        actor = actor_of(interaction)
        view = await self.service.job_view(job_id)
        if not may_press(action, actor, view):
            log.info("user %s pressed %s on job %s owned by %s: refused", actor.user_id, action, job_id,
                     view.owner_id)
            await interaction.response.send_message(
                f"Only <@{view.owner_id}> can use this button. Start your own with `/imagine`.", ephemeral=True,
                allowed_mentions=discord.AllowedMentions.none(),
            )
            return
        if action == "save":
            await interaction.response.send_modal(SaveCharacterModal(job_id, self))
        elif action in ("reroll", "seed"):
            await self._reroll(job_id, interaction, same_seed=action == "seed")
        elif action == "cancel":
            await interaction.response.defer()
            cancelled = await self.service.cancel(actor, place_of(interaction), job_id)
            log.info("job %s cancelled by %s", cancelled.job_id, actor.user_id)
        elif action == "delete":
            await interaction.response.defer()
            if interaction.message is not None:
                await interaction.message.delete()

    async def _reroll(self, job_id: str, interaction: discord.Interaction, *, same_seed: bool) -> None:
        ref = await defer_status(interaction, self.clock)  # a new message: the new job's status
        view = await self.service.reroll(
            actor_of(interaction), place_of(interaction), job_id, same_seed=same_seed,
            idem_key=idem_key(interaction), reply_ref=ref,
        )
        await self.messenger.show(ref, view)

    async def save_named(self, job_id: str, index: int, name: str, interaction: discord.Interaction) -> None:
        try:
            await interaction.response.defer(thinking=True)
            saved = await self.service.save_character_from_job(
                actor_of(interaction), place_of(interaction), job_id=job_id, name=name, index=index,
            )
            await interaction.followup.send(f"💾 Saved character **{saved.name}**.")
        except Exception as exc:
            await report_error(interaction, exc)
