"""The slash command tree: typed options -> the same command objects the text grammar builds.

Descriptions, ranges and choices come from core (command table, catalog, help): that is translation into
Discord's form, not a second set of rules. Whether an option or image is needed, and whether its value is
right, is core's answer, so images and the prompt are optional here and core names what is missing.

No `from __future__ import annotations` here: discord.py reads these signatures at runtime, and the
`Range[...]` bounds are the catalog's own numbers.
"""

import discord
from discord import app_commands

from adapters.discord.context import PHRASING
from adapters.discord.handlers import CommandHandlers, user_ref
from core.catalog import MODELS, SEED_MAX
from core.commands import types as c
from core.commands.help import DESCRIPTION_MAX, command_list, option_descriptions
from core.commands.table import ADMIN_QUOTA_OPTIONS, GENERATION
from core.moderation.ratings import Flagged, Rating
from core.store.quota import MAX_UNITS
from core.types import ImageRole

COUNT_MAX = int(MODELS["poses"].param("number_of_outputs").maximum or 1)
NAME_MAX = 32
TEXT_MAX = 2000  # Discord's own cap on a string option; the catalog's prompt limit is core's to check

Seed = app_commands.Range[int, 0, SEED_MAX]
Count = app_commands.Range[int, 1, COUNT_MAX]
Prompt = app_commands.Range[str, 1, TEXT_MAX]
Name = app_commands.Range[str, 1, NAME_MAX]
Units = app_commands.Range[int, 0, MAX_UNITS]
Page = app_commands.Range[int, 1, 1000]
SUMMARIES = {item.name: item.summary[:DESCRIPTION_MAX] for item in command_list(PHRASING)}
IMAGE_TEXT = {"image": "a character photo, instead of a saved character", "pose_image": "the pose to copy",
              "scene_image": "the scene photo to place your character in"}
GRAMMAR_TEXT = {"prompt": "what to draw", "character": "a saved character (see /character list)",
                "negative": "what to avoid", "model": "which model draws it"}
WINDOWS = [app_commands.Choice(name=w, value=w) for w in ("calendar", "rolling")]


def options_text(command: str, *names: str) -> dict[str, str]:
    """Option descriptions for a generation command: the catalog's (with range and default), else ours."""
    catalog = option_descriptions(command, PHRASING)
    return {name: catalog.get(name) or IMAGE_TEXT.get(name) or GRAMMAR_TEXT[name] for name in names}


def admin_text(option: str) -> str:
    return ADMIN_QUOTA_OPTIONS[option][0][:DESCRIPTION_MAX]


def model_choices(command: str) -> list[app_commands.Choice[str]]:
    return [app_commands.Choice(name=f"{key} — {MODELS[key].summary}"[:100], value=key)
            for key in GENERATION[command][1]]


def build_tree(tree: app_commands.CommandTree, handlers: CommandHandlers) -> None:
    _generation_commands(tree, handlers)
    tree.add_command(_character_group(handlers))
    _account_commands(tree, handlers)
    tree.add_command(_admin_group(handlers))


def _generation_commands(tree: app_commands.CommandTree, h: CommandHandlers) -> None:
    async def character_names(interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        return [app_commands.Choice(name=n, value=n) for n in await h.character_choices(interaction, current)]

    @tree.command(name="imagine", description=SUMMARIES["imagine"])
    @app_commands.describe(**options_text("imagine", "prompt", "character", "image", "count", "seed", "negative",
                                          "model"))
    @app_commands.choices(model=model_choices("imagine"))
    @app_commands.autocomplete(character=character_names)
    async def imagine(interaction: discord.Interaction, prompt: Prompt | None = None, character: Name | None = None,
                      image: discord.Attachment | None = None, count: Count | None = None,
                      seed: Seed | None = None, negative: str | None = None, model: str | None = None) -> None:
        await h.generate(interaction, "imagine", prompt=prompt, character=character, negative=negative, model=model,
                         images={ImageRole.CHARACTER: image})

    @tree.command(name="pose", description=SUMMARIES["pose"])
    @app_commands.describe(**options_text("pose", "prompt", "pose_image", "character", "image", "seed", "model"))
    @app_commands.choices(model=model_choices("pose"))
    @app_commands.autocomplete(character=character_names)
    async def pose(interaction: discord.Interaction, prompt: Prompt | None = None,
                   pose_image: discord.Attachment | None = None, character: Name | None = None,
                   image: discord.Attachment | None = None, seed: Seed | None = None, model: str | None = None) -> None:
        await h.generate(interaction, "pose", prompt=prompt, character=character, model=model,
                         images={ImageRole.CHARACTER: image, ImageRole.POSE: pose_image})

    @tree.command(name="scene", description=SUMMARIES["scene"])
    @app_commands.describe(**options_text("scene", "scene_image", "prompt", "character", "image"))
    @app_commands.autocomplete(character=character_names)
    async def scene(interaction: discord.Interaction, scene_image: discord.Attachment | None = None,
                    prompt: Prompt | None = None, character: Name | None = None,
                    image: discord.Attachment | None = None) -> None:
        await h.generate(interaction, "scene", prompt=prompt, character=character,
                         images={ImageRole.CHARACTER: image, ImageRole.SCENE: scene_image})

    @tree.command(name="sheet", description=SUMMARIES["sheet"])
    @app_commands.describe(**options_text("sheet", "prompt", "character", "image", "seed", "negative"))
    @app_commands.autocomplete(character=character_names)
    async def sheet(interaction: discord.Interaction, prompt: Prompt | None = None, character: Name | None = None,
                    image: discord.Attachment | None = None, seed: Seed | None = None,
                    negative: str | None = None) -> None:
        await h.generate(interaction, "sheet", prompt=prompt, character=character, negative=negative,
                         images={ImageRole.CHARACTER: image})


def _character_group(h: CommandHandlers) -> app_commands.Group:
    group = app_commands.Group(name="character", description=SUMMARIES["character"])

    async def names(interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        return [app_commands.Choice(name=n, value=n) for n in await h.character_choices(interaction, current)]

    @group.command(name="save", description="save a character from a photo")
    @app_commands.describe(image="a photo of the character",
                           consent="I have the right to use this picture of this person")
    async def save(interaction: discord.Interaction, name: Name, image: discord.Attachment | None = None,
                   consent: bool = False, description: str = "") -> None:
        # Without consent nothing is stored: that answer (and its confirm button) is private.
        await h.run(interaction, c.CharacterSave(name=name, description=description, consent=consent),
                    images={ImageRole.CHARACTER: image}, public=consent)

    @group.command(name="list", description="this community's saved characters")
    @app_commands.describe(prefix="only names starting with this", page="which page of the list")
    async def list_(interaction: discord.Interaction, prefix: str = "", page: Page = 1) -> None:
        await h.run(interaction, c.CharacterList(prefix=prefix, page=page))

    @group.command(name="show", description="show a saved character")
    @app_commands.autocomplete(name=names)
    async def show(interaction: discord.Interaction, name: Name) -> None:
        await h.run(interaction, c.CharacterShow(name), public=True)

    @group.command(name="rename", description="rename a character you saved")
    @app_commands.autocomplete(name=names)
    async def rename(interaction: discord.Interaction, name: Name, new_name: Name) -> None:
        await h.run(interaction, c.CharacterRename(name, new_name))

    @group.command(name="delete", description="delete a character you saved")
    @app_commands.autocomplete(name=names)
    async def delete(interaction: discord.Interaction, name: Name) -> None:
        await h.run(interaction, c.CharacterDelete(name))

    return group


def _account_commands(tree: app_commands.CommandTree, h: CommandHandlers) -> None:
    @tree.command(name="quota", description=SUMMARIES["quota"])
    async def quota(interaction: discord.Interaction) -> None:
        await h.run(interaction, c.Quota())

    @tree.command(name="forget_me", description=SUMMARIES["forget_me"])
    @app_commands.describe(confirm="True removes it; left out, castbot only says what would be removed")
    async def forget_me(interaction: discord.Interaction, confirm: bool = False) -> None:
        await h.run(interaction, c.ForgetMe(confirm=confirm))

    @tree.command(name="history", description=SUMMARIES["history"])
    @app_commands.describe(page="which page, newest first")
    async def history(interaction: discord.Interaction, page: Page = 1) -> None:
        await h.run(interaction, c.History(page=page))

    @tree.command(name="cancel", description=SUMMARIES["cancel"])
    @app_commands.describe(job="a job id from /history; your latest job when left out")
    async def cancel(interaction: discord.Interaction, job: str | None = None) -> None:
        await h.run(interaction, c.Cancel(job or None))

    @tree.command(name="help", description=SUMMARIES["help"])
    @app_commands.describe(command="a command, for its models and options")
    @app_commands.choices(command=[app_commands.Choice(name=n, value=n) for n in SUMMARIES if n != "start"])
    async def help_(interaction: discord.Interaction, command: str | None = None) -> None:
        await h.run(interaction, c.Help(command))


def _admin_group(h: CommandHandlers) -> app_commands.Group:
    # Manage Server by default; core decides again from Actor.is_admin, so a server's overrides can't widen it.
    group = app_commands.Group(name="admin", description=SUMMARIES["admin"][:DESCRIPTION_MAX], guild_only=True,
                               default_permissions=discord.Permissions(manage_guild=True))

    @group.command(name="quota", description="change this community's quota, or see one member's")
    @app_commands.describe(daily_units=admin_text("daily"), pool_units=admin_text("pool"),
                           pool_off="switch the community pool off", window=admin_text("window"),
                           timezone=admin_text("timezone"), characters=admin_text("characters"),
                           unlimited_admins=admin_text("unlimited-admins"), user=admin_text("user"))
    @app_commands.choices(window=WINDOWS)
    async def policy(interaction: discord.Interaction, daily_units: Units | None = None,
                     pool_units: Units | None = None, pool_off: bool = False, window: str | None = None,
                     timezone: str | None = None, characters: Units | None = None,
                     unlimited_admins: bool | None = None, user: discord.User | None = None) -> None:
        await h.run(interaction, c.AdminQuota(
            daily=daily_units, pool=pool_units, clear_pool=pool_off, window=window, timezone=timezone,
            characters=characters, unlimited_admins=unlimited_admins, user=None if user is None else user_ref(user)))

    @group.command(name="ban", description="stop a member from generating here")
    @app_commands.describe(user="the member")
    async def ban(interaction: discord.Interaction, user: discord.User | None = None) -> None:
        await h.run(interaction, c.AdminBan(user_ref(user)))

    @group.command(name="unban", description="let a banned member generate again")
    @app_commands.describe(user="the member")
    async def unban(interaction: discord.Interaction, user: discord.User | None = None) -> None:
        await h.run(interaction, c.AdminUnban(user_ref(user)))

    @group.command(name="stats", description="jobs, units spent, users and characters here")
    async def stats(interaction: discord.Interaction) -> None:
        await h.run(interaction, c.AdminStats())

    @group.command(name="rating", description="this channel's rating, and what happens to flagged images")
    @app_commands.describe(rating="sfw, or nsfw (only in a channel Discord marks age-restricted)",
                           flagged="in SFW channels: hold flagged images back, or post them as spoilers")
    @app_commands.choices(rating=[app_commands.Choice(name=v.value, value=v.value) for v in Rating],
                          flagged=[app_commands.Choice(name=v.value, value=v.value) for v in Flagged])
    async def rating(interaction: discord.Interaction, rating: str | None = None,
                     flagged: str | None = None) -> None:
        await h.run(interaction, c.AdminRating(rating=rating, flagged=flagged))

    @group.command(name="filter", description="the words and patterns refused in prompts here")
    @app_commands.describe(action="add, remove or list", word="a word or phrase to refuse",
                           pattern="or an RE2 regular expression to refuse", page="which page of the list")
    @app_commands.choices(action=[app_commands.Choice(name=a, value=a) for a in c.FILTER_ACTIONS])
    async def filter_(interaction: discord.Interaction, action: str, word: str | None = None,
                      pattern: str | None = None, page: Page = 1) -> None:
        await h.run(interaction, c.AdminFilter.from_options(action, word=word, pattern=pattern, page=page))

    @group.command(name="log", description="who generated what (with prompts) and reports; only you see it")
    @app_commands.describe(user="only this member's jobs and events", since="e.g. 2h, 3d or 2026-12-01",
                           page="which page, newest first")
    async def log(interaction: discord.Interaction, user: discord.User | None = None, since: str | None = None,
                  page: Page = 1) -> None:
        await h.run(interaction, c.AdminLog(user=None if user is None else user_ref(user), since=since, page=page))

    @group.command(name="remove", description="delete a result (its messages and images); optionally ban its author")
    @app_commands.describe(job="the job id (from /admin log)", ban="also ban the job's author here")
    async def remove(interaction: discord.Interaction, job: str, ban: bool = False) -> None:
        await h.run(interaction, c.DeleteOutput(job.strip(), ban=ban))

    return group
