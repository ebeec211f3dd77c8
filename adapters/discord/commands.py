"""The slash command tree, declared from the catalog: ranges, choices and help come from core.catalog.

No `from __future__ import annotations` here: discord.py reads these signatures at runtime, and the
`Range[...]` bounds are the catalog's own numbers.
"""

import discord
from discord import app_commands

from adapters.discord.handlers import CommandHandlers
from core.catalog import MODELS, SEED_MAX, get_model
from core.grammar import COMMANDS, GENERATION_COMMANDS
from core.types import ImageRole

_poses = MODELS["poses"]
COUNT_MAX = int(_poses.param("number_of_outputs").maximum or 1)
NAME_MAX = 32
TEXT_MAX = 2000  # the catalog's prompt limit is checked again by core

Seed = app_commands.Range[int, 0, SEED_MAX]
Count = app_commands.Range[int, 1, COUNT_MAX]
Prompt = app_commands.Range[str, 1, TEXT_MAX]
Name = app_commands.Range[str, 1, NAME_MAX]
DISCORD_OPTIONS = {"n": "count", "seed": "seed", "neg": "negative"}  # catalog flag -> slash option


def describe(command: str) -> str:
    """The shared command table's text, with the text grammar's `--model x` said the slash way."""
    return COMMANDS[command].replace("--model ", "model:")[:100]


def model_choices(command: str) -> list[app_commands.Choice[str]]:
    return [app_commands.Choice(name=f"{key} — {MODELS[key].summary}"[:100], value=key)
            for key in GENERATION_COMMANDS[command][1]]


def default_model(command: str) -> str:
    return GENERATION_COMMANDS[command][0]


def discord_help(command: str | None) -> str:
    """Help for Discord users: the commands, or one generation command's models and their options."""
    if not command or command not in GENERATION_COMMANDS:
        lines = ["**castbot** — create a character once, then keep generating it.", ""]
        lines += [f"`/{name}` — {describe(name)}" for name in COMMANDS if name != "start"]
        lines.append("\nUse `/help command:imagine` for a command's models and options.")
        return "\n".join(lines)
    lines = [f"`/{command}` — {describe(command)}"]
    for key in GENERATION_COMMANDS[command][1]:
        model = get_model(key)
        lines.append(f"\n**{key}**: {model.summary} ({model.weight} unit(s) per image)")
        for flag, param in model.by_flag().items():
            if flag in DISCORD_OPTIONS:
                default = "" if param.default in (None, "") else f", default {param.default}"
                default = ", random if left out" if flag == "seed" else default
                lines.append(f"• `{DISCORD_OPTIONS[flag]}`: {param.help or flag} — {param.describe_range()}{default}")
    return "\n".join(lines)


def build_tree(tree: app_commands.CommandTree, handlers: CommandHandlers) -> None:
    _generation_commands(tree, handlers)
    tree.add_command(_character_group(handlers))
    _account_commands(tree, handlers)
    tree.add_command(_admin_group(handlers))


def _generation_commands(tree: app_commands.CommandTree, h: CommandHandlers) -> None:
    async def character_names(interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        return [app_commands.Choice(name=n, value=n) for n in await h.character_choices(interaction, current)]

    @tree.command(name="imagine", description=describe("imagine"))
    @app_commands.describe(prompt="what to draw", character="a saved character", image="or a character photo",
                           count="how many images", seed="same seed, same picture", negative="what to avoid")
    @app_commands.choices(model=model_choices("imagine"))
    @app_commands.autocomplete(character=character_names)
    async def imagine(interaction: discord.Interaction, prompt: Prompt, character: Name | None = None,
                      image: discord.Attachment | None = None, count: Count | None = None,
                      seed: Seed | None = None, negative: str | None = None, model: str | None = None) -> None:
        await h.generate(interaction, model=model or default_model("imagine"), prompt=prompt, negative=negative,
                         character=character, images={ImageRole.CHARACTER: image},
                         flags={"n": count, "seed": seed})

    @tree.command(name="pose", description=describe("pose"))
    @app_commands.describe(pose_image="the pose to copy", character="a saved character",
                           image="or a character photo")
    @app_commands.choices(model=model_choices("pose"))
    @app_commands.autocomplete(character=character_names)
    async def pose(interaction: discord.Interaction, prompt: Prompt, pose_image: discord.Attachment,
                   character: Name | None = None, image: discord.Attachment | None = None,
                   seed: Seed | None = None, model: str | None = None) -> None:
        await h.generate(interaction, model=model or default_model("pose"), prompt=prompt, character=character,
                         images={ImageRole.CHARACTER: image, ImageRole.POSE: pose_image}, flags={"seed": seed})

    @tree.command(name="scene", description=describe("scene"))
    @app_commands.describe(scene_image="the scene photo", character="a saved character",
                           image="or a character photo")
    @app_commands.autocomplete(character=character_names)
    async def scene(interaction: discord.Interaction, scene_image: discord.Attachment, prompt: Prompt | None = None,
                    character: Name | None = None, image: discord.Attachment | None = None) -> None:
        await h.generate(interaction, model=default_model("scene"), prompt=prompt or "", character=character,
                         images={ImageRole.CHARACTER: image, ImageRole.SCENE: scene_image})

    @tree.command(name="sheet", description=describe("sheet"))
    @app_commands.autocomplete(character=character_names)
    async def sheet(interaction: discord.Interaction, prompt: Prompt, character: Name | None = None,
                    image: discord.Attachment | None = None, seed: Seed | None = None,
                    negative: str | None = None) -> None:
        await h.generate(interaction, model=default_model("sheet"), prompt=prompt, negative=negative,
                         character=character, images={ImageRole.CHARACTER: image}, flags={"seed": seed})


def _character_group(h: CommandHandlers) -> app_commands.Group:
    group = app_commands.Group(name="character", description="save, list, show, rename or delete characters")

    async def names(interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        return [app_commands.Choice(name=n, value=n) for n in await h.character_choices(interaction, current)]

    @group.command(name="save", description="save a character from a photo")
    @app_commands.describe(consent="I have the right to use this picture of this person")
    async def save(interaction: discord.Interaction, name: Name, image: discord.Attachment, consent: bool,
                   description: str = "") -> None:
        await h.character_save(interaction, name=name, image=image, description=description, consent=consent)

    @group.command(name="list", description="this community's saved characters")
    async def list_(interaction: discord.Interaction, prefix: str = "") -> None:
        await h.character_list(interaction, prefix)

    @group.command(name="show", description="show a saved character")
    @app_commands.autocomplete(name=names)
    async def show(interaction: discord.Interaction, name: Name) -> None:
        await h.character_show(interaction, name)

    @group.command(name="rename", description="rename a character you saved")
    @app_commands.autocomplete(name=names)
    async def rename(interaction: discord.Interaction, name: Name, new_name: Name) -> None:
        await h.character_rename(interaction, name, new_name)

    @group.command(name="delete", description="delete a character you saved")
    @app_commands.autocomplete(name=names)
    async def delete(interaction: discord.Interaction, name: Name) -> None:
        await h.character_delete(interaction, name)

    return group


def _account_commands(tree: app_commands.CommandTree, h: CommandHandlers) -> None:
    @tree.command(name="quota", description=describe("quota"))
    async def quota(interaction: discord.Interaction) -> None:
        await h.quota(interaction)

    @tree.command(name="history", description=describe("history"))
    async def history(interaction: discord.Interaction) -> None:
        await h.history(interaction)

    @tree.command(name="cancel", description=describe("cancel"))
    @app_commands.describe(job="a job id from /history; your latest job when left out")
    async def cancel(interaction: discord.Interaction, job: str | None = None) -> None:
        await h.cancel(interaction, job)

    @tree.command(name="help", description=describe("help"))
    @app_commands.choices(command=[app_commands.Choice(name=c, value=c) for c in GENERATION_COMMANDS])
    async def help_(interaction: discord.Interaction, command: str | None = None) -> None:
        await h.help(interaction, discord_help(command))


def _admin_group(h: CommandHandlers) -> app_commands.Group:
    # Manage Server by default; core checks Actor.is_admin again, so a server's overrides can't widen it.
    group = app_commands.Group(name="admin", description="community settings (Manage Server)", guild_only=True,
                               default_permissions=discord.Permissions(manage_guild=True))

    @group.command(name="quota", description="set the daily units each member gets")
    async def policy(interaction: discord.Interaction, daily_units: app_commands.Range[int, 0, 100_000]) -> None:
        await h.admin_policy(interaction, {"daily_units": daily_units})

    @group.command(name="ban", description="stop a member from generating here")
    async def ban(interaction: discord.Interaction, user: discord.User) -> None:
        await h.admin_ban(interaction, user, True)

    @group.command(name="unban", description="let a banned member generate again")
    async def unban(interaction: discord.Interaction, user: discord.User) -> None:
        await h.admin_ban(interaction, user, False)

    @group.command(name="stats", description="jobs, units spent, users and characters here")
    async def stats(interaction: discord.Interaction) -> None:
        await h.admin_stats(interaction)

    return group
