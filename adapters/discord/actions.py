"""Button presses: Re-roll, Same seed, Save as character, Delete, Cancel — each one core command.

A press names only an action and a job id, so it works on messages sent before a restart. Who may press
what is core's decision (core.permissions): asked before deferring or opening a dialog, so a refusal is a
plain private reply and nothing changes.
"""

from __future__ import annotations

import logging

import discord

from adapters.discord.context import actor_of, defer_status, place_of, report_error
from adapters.discord.handlers import CommandHandlers
from adapters.discord.views import SaveCharacterModal
from core.commands import answers as a
from core.commands import types as c
from core.errors import UserError
from core.permissions import Action

log = logging.getLogger(__name__)


BUTTON_ACTIONS = {"save": Action.SAVE_FROM_JOB, "reroll": Action.REROLL, "seed": Action.REROLL_SAME_SEED,
                  "cancel": Action.CANCEL, "delete": Action.DELETE_OUTPUT,
                  "report": Action.REPORT}  # button -> core's name for it


def press_command(action: str, job_id: str) -> c.Command:
    """The command a button stands for (Save asks for a name first: see `save_named`)."""
    commands: dict[str, c.Command] = {
        "reroll": c.Reroll(job_id), "seed": c.Reroll(job_id, same_seed=True),
        "delete": c.DeleteOutput(job_id), "cancel": c.Cancel(job_id), "report": c.Report(job_id),
    }
    return commands[action]


class ButtonActions:
    def __init__(self, handlers: CommandHandlers) -> None:
        self.handlers = handlers

    async def handle(self, action: str, job_id: str, interaction: discord.Interaction) -> None:
        try:
            await self.handlers.service.check(BUTTON_ACTIONS[action], actor_of(interaction), place_of(interaction),
                                              job_id)
            if action == "save":
                await interaction.response.send_modal(SaveCharacterModal(job_id, self))
                return
            command = press_command(action, job_id)
            if isinstance(command, c.Reroll):
                ref = await defer_status(interaction, self.handlers.clock)  # a new message: the new job's status
            elif isinstance(command, c.Report):  # answered privately: the channel never learns who reported
                await interaction.response.defer(ephemeral=True, thinking=True)
                ref = ""
            else:
                await interaction.response.defer()  # the job's own message changes (or goes)
                ref = ""
            answer = await self.handlers.execute(interaction, command, reply_ref=ref)
            await self._apply(interaction, answer, ref)
        except Exception as exc:
            if isinstance(exc, UserError):
                log.info("press %s on job %s by %s refused: %s", action, job_id, interaction.user.id, exc)
                self.handlers.remember(interaction.id, exc)
            await report_error(interaction, exc)

    async def _apply(self, interaction: discord.Interaction, answer: a.Answer, ref: str) -> None:
        if isinstance(answer, a.OutputDeleted):
            # core deleted the posted results; a result from before it kept them: the pressed message goes
            if not answer.messages and interaction.message is not None:
                try:
                    await interaction.message.delete()
                except discord.NotFound:
                    log.info("job %s: its message was already deleted", answer.job_id)  # pressed twice
        elif isinstance(answer, a.Cancelled):
            log.info("job %s cancelled by %s", answer.view.job_id, interaction.user.id)  # the status shows it
        else:
            await self.handlers.reply(interaction, answer, ref)

    async def save_named(self, job_id: str, index: int, name: str, interaction: discord.Interaction) -> None:
        await self.handlers.run(interaction, c.SaveFromJob(job_id=job_id, name=name, index=index), public=True)
