"""What each slash command does: platform event in, one CastService call, a reply out.

Cheap checks (attachment metadata, option ranges from the catalog) run before deferring so their
errors are immediate and private; everything else is deferred at once, well inside Discord's 3 s.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Collection, Mapping
from typing import TYPE_CHECKING, Any

import discord
import httpx

from adapters.discord import render
from adapters.discord.attachments import check_metadata, download
from adapters.discord.context import actor_of, defer_status, idem_key, place_of
from adapters.discord.messenger import DiscordMessenger
from core.catalog import build_payload, get_model
from core.clock import Clock
from core.types import ImageInput, ImageRole, Request

if TYPE_CHECKING:
    from core.service import CastService

log = logging.getLogger(__name__)


class CommandHandlers:
    def __init__(self, service: CastService, messenger: DiscordMessenger, *, clock: Clock,
                 http: httpx.AsyncClient, hosts: Collection[str]) -> None:
        self.service = service
        self.messenger = messenger
        self.clock = clock
        self.http = http
        self.hosts = hosts

    async def generate(
        self, interaction: discord.Interaction, *, model: str, prompt: str = "", negative: str | None = None,
        character: str | None = None, images: Mapping[ImageRole, discord.Attachment | None] | None = None,
        flags: Mapping[str, Any] | None = None,
    ) -> None:
        attached = {role: att for role, att in (images or {}).items() if att is not None}
        for role, att in attached.items():
            check_metadata(att, what=f"{role.value} image")
        flags = {k: v for k, v in (flags or {}).items() if v is not None}
        build_payload(get_model(model), prompt=prompt, negative=negative, flags=flags)  # raises early
        ref = await defer_status(interaction, self.clock)
        inputs = tuple([
            ImageInput(role, await download(att, http=self.http, hosts=self.hosts), att.filename,
                       att.content_type or "image/png")
            for role, att in attached.items()
        ])
        request = Request(
            actor=actor_of(interaction), place=place_of(interaction), model=model, prompt=prompt,
            negative=negative, character_name=character, images=inputs, params=dict(flags),
            idem_key=idem_key(interaction), reply_ref=ref,
        )
        view = await self.service.submit(request)
        log.info("job %s accepted from discord interaction %s", view.job_id, interaction.id)
        await self.messenger.show(ref, view)

    # --- characters -----------------------------------------------------------------------------

    async def character_save(self, interaction: discord.Interaction, *, name: str, image: discord.Attachment,
                             description: str, consent: bool) -> None:
        check_metadata(image, what="character image")
        await interaction.response.defer(thinking=True)
        data = await download(image, http=self.http, hosts=self.hosts)
        saved = await self.service.save_character(
            actor_of(interaction), place_of(interaction), name=name, image=data, description=description,
            consent=consent,
        )
        await interaction.followup.send(f"💾 Saved character **{saved.name}**. Use it with `/imagine character:"
                                        f"{saved.name}`.")

    async def character_list(self, interaction: discord.Interaction, prefix: str = "") -> None:
        await interaction.response.defer(thinking=True, ephemeral=True)
        chars = await self.service.characters(actor_of(interaction), place_of(interaction), prefix=prefix, limit=25)
        await interaction.followup.send(render.characters_text(chars), ephemeral=True,
                                        allowed_mentions=discord.AllowedMentions.none())

    async def character_show(self, interaction: discord.Interaction, name: str) -> None:
        await interaction.response.defer(thinking=True)
        view, data = await self.service.character(actor_of(interaction), place_of(interaction), name)
        file = discord.File(io.BytesIO(data), filename=f"{view.name}.png")
        await interaction.followup.send(render.character_line(view), file=file,
                                        allowed_mentions=discord.AllowedMentions.none())

    async def character_rename(self, interaction: discord.Interaction, name: str, new_name: str) -> None:
        await interaction.response.defer(thinking=True, ephemeral=True)
        view = await self.service.rename_character(actor_of(interaction), place_of(interaction), name, new_name)
        await interaction.followup.send(f"Renamed **{name}** to **{view.name}**.", ephemeral=True)

    async def character_delete(self, interaction: discord.Interaction, name: str) -> None:
        await interaction.response.defer(thinking=True, ephemeral=True)
        await self.service.delete_character(actor_of(interaction), place_of(interaction), name)
        await interaction.followup.send(f"Deleted **{name}**.", ephemeral=True)

    async def character_choices(self, interaction: discord.Interaction, current: str) -> list[str]:
        """Autocomplete: this community's characters only (the scope comes from the interaction)."""
        try:
            chars = await self.service.characters(actor_of(interaction), place_of(interaction), prefix=current,
                                                  limit=25)
        except Exception:
            log.exception("character autocomplete failed")
            return []
        return [c.name for c in chars][:25]

    # --- account and jobs -----------------------------------------------------------------------

    async def quota(self, interaction: discord.Interaction) -> None:
        await interaction.response.defer(thinking=True, ephemeral=True)
        view = await self.service.quota(actor_of(interaction), place_of(interaction))
        await interaction.followup.send(render.quota_text(view), ephemeral=True)

    async def history(self, interaction: discord.Interaction) -> None:
        await interaction.response.defer(thinking=True, ephemeral=True)
        views = await self.service.history(actor_of(interaction), place_of(interaction), limit=10)
        await interaction.followup.send(render.history_text(views), ephemeral=True)

    async def cancel(self, interaction: discord.Interaction, job_id: str | None) -> None:
        await interaction.response.defer(thinking=True, ephemeral=True)
        view = await self.service.cancel(actor_of(interaction), place_of(interaction), job_id or None)
        await interaction.followup.send(f"Cancelled job `{view.job_id}`; nothing was charged.", ephemeral=True)

    async def help(self, interaction: discord.Interaction, text: str) -> None:
        await interaction.response.defer(thinking=True, ephemeral=True)
        await interaction.edit_original_response(content=text[:2000])

    # --- admin ----------------------------------------------------------------------------------

    async def admin_policy(self, interaction: discord.Interaction, changes: Mapping[str, Any]) -> None:
        await interaction.response.defer(thinking=True, ephemeral=True)
        summary = await self.service.set_policy(actor_of(interaction), place_of(interaction),
                                                **{k: v for k, v in changes.items() if v is not None})
        await interaction.followup.send(summary, ephemeral=True)

    async def admin_ban(self, interaction: discord.Interaction, user: discord.abc.User, banned: bool) -> None:
        await interaction.response.defer(thinking=True, ephemeral=True)
        await self.service.ban(actor_of(interaction), place_of(interaction), str(user.id), banned=banned)
        verb = "banned from" if banned else "allowed to use"
        await interaction.followup.send(f"<@{user.id}> is now {verb} castbot here.", ephemeral=True,
                                        allowed_mentions=discord.AllowedMentions.none())

    async def admin_stats(self, interaction: discord.Interaction) -> None:
        await interaction.response.defer(thinking=True, ephemeral=True)
        stats = await self.service.stats(actor_of(interaction), place_of(interaction))
        states = ", ".join(f"{k} {v}" for k, v in sorted(stats.jobs_by_state.items())) or "none"
        await interaction.followup.send(
            f"**Jobs:** {states}\n**Units spent:** {stats.units_spent}\n**Users:** {stats.users}\n"
            f"**Characters:** {stats.characters}", ephemeral=True)
