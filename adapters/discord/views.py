"""Persistent buttons: the custom_id carries the action and the job id, so a press after a restart works.

`JobButton` is a discord.py DynamicItem: registered once at start (`client.add_dynamic_items`), it
matches any `cb:<action>:<job_id>` on any message, old or new. The press itself is handled by the
client's `ButtonActions` (adapters/discord/actions.py).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, Protocol

import discord

from adapters.discord.context import report_error
from core.commands import types as c
from core.types import Actor, Place

TEMPLATE = r"cb:(?P<action>reroll|seed|save|delete|cancel|report):(?P<job>[A-Za-z0-9_-]{1,64})"

LABELS: dict[str, tuple[str, str, discord.ButtonStyle]] = {  # action -> (label, emoji, style)
    "reroll": ("Re-roll", "🎲", discord.ButtonStyle.primary),
    "seed": ("Same seed", "🔁", discord.ButtonStyle.secondary),
    "save": ("Save as character", "💾", discord.ButtonStyle.success),
    "delete": ("Delete", "🗑️", discord.ButtonStyle.danger),
    "cancel": ("Cancel", "✖️", discord.ButtonStyle.danger),
    "report": ("Report", "🚩", discord.ButtonStyle.secondary),
}
RESULT_ACTIONS = ("reroll", "seed", "save", "delete", "report")


class ActionHandler(Protocol):
    async def handle(self, action: str, job_id: str, interaction: discord.Interaction) -> None: ...

    async def save_named(self, job_id: str, index: int, name: str, interaction: discord.Interaction) -> None: ...


class CommandRunner(Protocol):
    async def run(self, interaction: discord.Interaction, command: c.Command, *,
                  sources: Sequence[c.ImageSource] = (), public: bool = False,
                  asked_by: tuple[Actor, Place] | None = None) -> None: ...


def custom_id(action: str, job_id: str) -> str:
    return f"cb:{action}:{job_id}"


def parse_custom_id(value: str) -> tuple[str, str] | None:
    match = re.fullmatch(TEMPLATE, value)
    return (match["action"], match["job"]) if match else None


class JobButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=TEMPLATE):
    def __init__(self, action: str, job_id: str) -> None:
        label, emoji, style = LABELS[action]
        super().__init__(discord.ui.Button(label=label, emoji=emoji, style=style,
                                           custom_id=custom_id(action, job_id)))
        self.action = action
        self.job_id = job_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /,
    ) -> JobButton:
        return cls(match["action"], match["job"])

    async def callback(self, interaction: discord.Interaction) -> None:
        handler: ActionHandler = interaction.client.actions  # type: ignore[attr-defined]
        await handler.handle(self.action, self.job_id, interaction)


def result_view(job_id: str) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    for action in RESULT_ACTIONS:
        view.add_item(JobButton(action, job_id))
    return view


def status_view(job_id: str) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(JobButton("cancel", job_id))
    return view


class SaveCharacterModal(discord.ui.Modal, title="Save as character"):
    """Asks for the new character's name; lives only in this process, like any open dialog."""

    name: discord.ui.TextInput[SaveCharacterModal] = discord.ui.TextInput(
        label="Character name", min_length=1, max_length=32, placeholder="Luna")
    index: discord.ui.TextInput[SaveCharacterModal] = discord.ui.TextInput(
        label="Which image (1 = first)", default="1", min_length=1, max_length=2, required=False)

    def __init__(self, job_id: str, handler: ActionHandler) -> None:
        super().__init__(custom_id=f"cbsave:{job_id}", timeout=15 * 60)
        self.job_id = job_id
        self.handler = handler

    async def on_submit(self, interaction: discord.Interaction) -> None:
        raw = (self.index.value or "1").strip()
        index = int(raw) - 1 if raw.isdigit() and int(raw) > 0 else 0
        await self.handler.save_named(self.job_id, index, self.name.value.strip(), interaction)

    async def on_error(self, interaction: discord.Interaction, error: Exception, /) -> None:
        await report_error(interaction, error)


class ConsentView(discord.ui.View):
    """Under a private "not saved" answer: confirming runs the same save again, with consent, same photo.

    Lives only in this process (it holds the attachment), like any open dialog; the message is private,
    so only the person who asked sees the button (and core refuses anyone else's confirmation).
    """

    def __init__(self, runner: CommandRunner, command: c.CharacterSave | c.SaveFromJob,
                 sources: Sequence[c.ImageSource], saver: tuple[Actor, Place]) -> None:
        super().__init__(timeout=15 * 60)
        self.runner = runner
        self.command = command
        self.sources = tuple(sources)
        self.saver = saver  # the command stays the saver's; the presser only confirms (core checks who)

    @discord.ui.button(label="I may use this face", emoji="✅", style=discord.ButtonStyle.success)
    async def confirm(self, interaction: discord.Interaction, button: discord.ui.Button[ConsentView]) -> None:
        await self.runner.run(interaction, self.command, sources=self.sources, public=True, asked_by=self.saver)

    async def on_error(self, interaction: discord.Interaction, error: Exception, item: discord.ui.Item[Any], /) -> None:
        await report_error(interaction, error)
