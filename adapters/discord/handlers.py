"""Interactions in, core commands out: (actor, place, command, attachments) -> core's router -> a reply.

Only transport checks run here, before deferring (an attachment's type and size from Discord's metadata);
every rule about commands, options, images and permissions is core's. Everything is deferred before core
runs, well inside Discord's 3 s; a refusal after that is a private follow-up.
"""

from __future__ import annotations

import dataclasses
import io
import logging
from collections import OrderedDict, deque
from collections.abc import Collection, Mapping, Sequence
from typing import TYPE_CHECKING

import discord
import httpx

from adapters.discord.answers import answer_text
from adapters.discord.attachments import check_metadata, download
from adapters.discord.context import (
    NO_MENTIONS,
    PHRASING,
    actor_of,
    defer_status,
    idem_key,
    place_of,
    report_error,
    say,
)
from adapters.discord.messenger import DiscordMessenger
from adapters.discord.views import ConsentView
from core.clock import Clock
from core.commands import answers as a
from core.commands import types as c
from core.commands.router import CommandRouter
from core.errors import SlowDown, UserError, word
from core.types import Actor, ImageRole, Place

if TYPE_CHECKING:
    from core.service import CastService

log = logging.getLogger(__name__)

# Slash options that are the command's own words, not a model option: everything else goes to core as is.
GRAMMAR_OPTIONS = frozenset({"prompt", "character", "negative", "model", "image", "pose_image", "scene_image"})
CORE_NAMES = {platform: core for core, platform in PHRASING.option_names.items()}  # count -> n
REMEMBERED = 256  # outcomes kept per process, newest last
Attachments = Mapping[ImageRole, discord.Attachment | None]


def model_options(interaction: discord.Interaction) -> dict[str, str]:
    """The sent options that belong to the model, under core's names, values as raw text (like typed ones).

    Read from the interaction, not the callback's parameters: an option an older command set still has
    reaches core, which names it, instead of being dropped silently.
    """
    raw = (interaction.data or {}).get("options", [])
    return {CORE_NAMES.get(o["name"], o["name"]): str(o["value"]) for o in raw  # type: ignore[typeddict-item]
            if o["name"] not in GRAMMAR_OPTIONS and "value" in o}


def user_ref(user: discord.abc.Snowflake | None) -> c.UserRef:
    """Discord resolves the user option itself: its id is the user's id."""
    if user is None:
        return c.UserRef()
    return c.UserRef(user_id=str(user.id), text=getattr(user, "name", "") or str(user.id))


def sources_of(images: Attachments) -> tuple[c.ImageSource, ...]:
    """Attachment options as core's image sources, after Discord's metadata passed the transport checks."""
    found = []
    for role, att in images.items():
        if att is None:
            continue
        check_metadata(att, what=f"{role.value} image")
        found.append(c.ImageSource(handle=att, role=role, filename=att.filename, mime=att.content_type or "",
                                   size=att.size))
    return tuple(found)


class CommandHandlers:
    def __init__(self, service: CastService, messenger: DiscordMessenger, *, clock: Clock,
                 http: httpx.AsyncClient, hosts: Collection[str]) -> None:
        self.service = service
        self.router = CommandRouter(service, PHRASING)
        self.messenger = messenger
        self.clock = clock
        self.http = http
        self.hosts = hosts
        # interaction id -> the answer or user error it got (bounded): what scripts and tests observe
        self.outcomes: OrderedDict[int, a.Answer | UserError] = OrderedDict()
        # A pending save holds only Discord's attachment metadata (core downloads nothing before consent), but
        # each open button is a view discord.py keeps for 15 minutes: bounded, so a flood of saves can't grow it.
        self.max_pending = a.MAX_PENDING_CONSENTS
        self.pending: deque[ConsentView] = deque()

    async def generate(self, interaction: discord.Interaction, command: str, *, prompt: str | None,
                       character: str | None, negative: str | None = None, model: str | None = None,
                       images: Attachments) -> None:
        cmd = c.Generate(command=command, model=model, prompt=prompt or "", negative=negative, character=character,
                         options=model_options(interaction))
        await self.run(interaction, cmd, images=images)

    async def run(self, interaction: discord.Interaction, command: c.Command, *, images: Attachments | None = None,
                  sources: Sequence[c.ImageSource] = (), public: bool = False,
                  asked_by: tuple[Actor, Place] | None = None) -> None:
        """One command: check attachments, defer, run it in core, reply. Errors end in report_error.
        `public`: the answer is for the channel (a saved or shown character), else only for the asker.
        `asked_by`: whose command it is when this interaction only confirms it (the consent button)."""
        try:
            sources = (*sources, *sources_of(images or {}))
            if isinstance(command, c.Generate):
                ref = await defer_status(interaction, self.clock)  # that public message becomes the status
            else:
                await interaction.response.defer(thinking=True, ephemeral=not public)
                ref = ""
            answer = await self.execute(interaction, command, sources=sources, reply_ref=ref, asked_by=asked_by)
            if isinstance(answer, a.ConsentNeeded) and isinstance(command, c.CharacterSave | c.SaveFromJob):
                # Nothing was stored; the button runs the same command again, with consent and the same photo
                # (or the same job's result). Only the saver's press counts (core).
                confirm = ConsentView(self, dataclasses.replace(command, consent=True), sources,
                                      (actor_of(interaction), place_of(interaction)))
                await interaction.followup.send(answer_text(answer), view=confirm, allowed_mentions=NO_MENTIONS)
                self.pending.append(confirm)
                while len(self.pending) > self.max_pending:
                    self.pending.popleft().stop()
                return
            await self.reply(interaction, answer, ref)
        except Exception as exc:
            if isinstance(exc, UserError):
                self.remember(interaction.id, exc)
            await report_error(interaction, exc)

    async def execute(self, interaction: discord.Interaction, command: c.Command, *,
                      sources: Sequence[c.ImageSource] = (), reply_ref: str = "",
                      asked_by: tuple[Actor, Place] | None = None) -> a.Answer:
        """Core's router for this interaction, remembering what came back. With `asked_by`, the command is that
        person's and this interaction's user only confirms it: core decides whether they may."""
        actor, place = asked_by or (actor_of(interaction), place_of(interaction))
        confirmed_by = actor_of(interaction) if asked_by else None
        try:
            answer = await self.router.handle(actor, place, command, sources=sources, fetch=self._fetch,
                                              event_id=idem_key(interaction), reply_ref=reply_ref,
                                              confirmed_by=confirmed_by)
        except UserError as exc:
            self.remember(interaction.id, exc)
            raise
        self.remember(interaction.id, answer)
        return answer

    async def reply(self, interaction: discord.Interaction, answer: a.Answer, reply_ref: str = "") -> None:
        if isinstance(answer, a.Ignored):  # core said nothing more to say: drop the deferred "thinking" reply
            await interaction.delete_original_response()
            if answer.leave and interaction.guild_id is not None:  # an unlisted server that was told once
                await interaction.client.http.leave_guild(interaction.guild_id)
            return
        if isinstance(answer, a.Throttled):
            # Discord shows "did not respond" for an unanswered interaction, so a flood past its one "slow down"
            # still gets it, privately: only the flooder sees it, and a public "thinking" is removed.
            await say(interaction, word(SlowDown(answer.retry_after), PHRASING))
            return
        if isinstance(answer, a.JobAccepted):
            log.info("job %s accepted from discord interaction %s", answer.view.job_id, interaction.id)
            await self.messenger.show(reply_ref, answer.view)
            return
        text = answer_text(answer, asker=str(interaction.user.id))
        if isinstance(answer, a.CharacterShown):
            file = discord.File(io.BytesIO(answer.image), filename=f"{answer.view.name}.png")
            await interaction.followup.send(text, file=file, allowed_mentions=NO_MENTIONS)
        else:
            await interaction.followup.send(text, allowed_mentions=NO_MENTIONS)

    async def character_choices(self, interaction: discord.Interaction, current: str) -> list[str]:
        """Autocomplete: this community's characters only (the scope comes from the interaction)."""
        try:
            chars = await self.service.characters(actor_of(interaction), place_of(interaction), prefix=current,
                                                  limit=25)
        except Exception:
            log.exception("character autocomplete failed")
            return []
        return [ch.name for ch in chars][:25]

    async def _fetch(self, source: c.ImageSource) -> bytes:
        return await download(source.handle, http=self.http, hosts=self.hosts)

    def remember(self, interaction_id: int, outcome: a.Answer | UserError) -> None:
        self.outcomes[interaction_id] = outcome
        while len(self.outcomes) > REMEMBERED:
            self.outcomes.popitem(last=False)
