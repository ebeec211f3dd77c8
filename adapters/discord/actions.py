"""Button presses: Re-roll, Same seed, Save as character, Delete, Cancel.

A press names only an action and a job id, so it works on messages sent before a restart. Who may
press what is core's decision (core.permissions): a refusal arrives as NotAllowed and is shown privately.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import discord

from adapters.discord.context import actor_of, defer_status, idem_key, place_of, report_error
from adapters.discord.messenger import DiscordMessenger
from adapters.discord.views import SaveCharacterModal
from core.clock import Clock
from core.permissions import Action

if TYPE_CHECKING:
    from core.service import CastService

log = logging.getLogger(__name__)

BUTTON_ACTIONS = {"save": Action.SAVE_FROM_JOB, "reroll": Action.REROLL, "seed": Action.REROLL_SAME_SEED,
                  "cancel": Action.CANCEL, "delete": Action.DELETE_OUTPUT}


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
        actor, place = actor_of(interaction), place_of(interaction)
        # Ask core before deferring or opening a dialog: a refusal is then a plain private reply.
        await self.service.check(BUTTON_ACTIONS[action], actor, place, job_id)
        if action == "save":
            await interaction.response.send_modal(SaveCharacterModal(job_id, self))
        elif action in ("reroll", "seed"):
            await self._reroll(job_id, interaction, same_seed=action == "seed")
        elif action == "cancel":
            await interaction.response.defer()
            cancelled = await self.service.cancel(actor, place, job_id)
            log.info("job %s cancelled by %s", cancelled.job_id, actor.user_id)
        elif action == "delete":
            await self.service.delete_output(actor, place, job_id)
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
