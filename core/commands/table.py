"""The command table: names, one-line summaries, usage lines and which models each generation command runs.

/help, Telegram's setMyCommands, Discord's command descriptions and the parser's usage errors all read
this one table (with the catalog for models and options).
"""

from __future__ import annotations

COMMANDS: dict[str, str] = {
    "start": "what castbot does and how to begin",
    "help": "commands, or the options of one command: /help imagine",
    "imagine": "generate your character in new poses (--model illustration for drawings)",
    "pose": "your character copying the pose of a second image",
    "scene": "your character placed into a scene photo",
    "sheet": "an upscaled character sheet",
    "character": "save | list | show | rename | delete saved characters",
    "quota": "how many units you have left and when they reset",
    "history": "your recent jobs",
    "cancel": "cancel your latest running job",
    "forget_me": "delete everything castbot keeps about you (asks first)",
    "admin": "community settings: quota, ban, unban, stats, rating, prompt filters, log, remove (admins only)",
}

# Generation command -> (default model, models it may be switched to with --model)
GENERATION: dict[str, tuple[str, tuple[str, ...]]] = {
    "imagine": ("poses", ("poses", "illustration")),
    "pose": ("pose", ("pose", "illustration")),
    "scene": ("scene", ("scene",)),
    "sheet": ("sheet", ("sheet",)),
}

# The grammar's own options on a generation command (the rest belong to the model, see core.catalog).
GRAMMAR_OPTIONS = ("model", "char", "neg")

# `/admin quota` option -> (what it sets, kind); kinds: int, int-or-none, window, text, bool, user
ADMIN_QUOTA_OPTIONS: dict[str, tuple[str, str]] = {
    "daily": ("units each member gets per day", "int"),
    "pool": ("units the whole community shares per day; none switches the pool off", "int-or-none"),
    "window": ("when the day restarts: calendar (midnight in the timezone) or rolling (24 h)", "window"),
    "timezone": ("the community's timezone, e.g. Europe/Paris", "text"),
    "characters": ("how many characters the community may save", "int"),
    "unlimited-admins": ("admins generate without limits", "bool"),
    "user": ("show one member's quota instead", "user"),
}

# `{attach}` stands for the platform's way of attaching the character photo (Phrasing.attach_role).
USAGE: dict[str, tuple[str, ...]] = {
    "character": (
        "/character save NAME [description] --consent — {attach}",
        "/character save NAME --job JOB_ID [--index N] [--consent] — keep an image a job made",
        "/character list [PREFIX] [--page N] · /character show NAME",
        "/character rename OLD NEW · /character delete NAME",
    ),
    "admin": (
        "/admin quota --daily N [--pool N|none] [--window calendar|rolling] [--timezone Europe/Paris] "
        "[--characters N] [--unlimited-admins yes|no]",
        "/admin quota --user USER — one member's quota",
        "/admin ban USER · /admin unban USER · /admin stats",
        "/admin rating [sfw|nsfw] [--flagged withhold|spoiler] — this chat's rating and what happens to flagged images",
        "/admin filter add|remove WORD · /admin filter add|remove --pattern REGEX · /admin filter list [--page N]",
        "/admin log [USER] [--since 2h|3d|2026-12-01] [--page N] — who generated what, and reports",
        "/admin remove JOB_ID [--ban] — delete a result (and ban its author)",
    ),
    "report": ("/report JOB_ID — flag a result to the community's admins",),
    "history": ("/history [PAGE]",),
    "cancel": ("/cancel [JOB_ID]",),
    "help": ("/help [COMMAND]",),
    "forget_me": ("/forget_me — see what would be removed · /forget_me --confirm — remove it",),
}

START_INTRO = (
    "Hi! I draw the same character again and again, in new poses and scenes.",
    "1. Save a character: /character save NAME --consent with a photo of them",
    "2. Then /imagine --char NAME on a beach at sunset",
)


def usage_line(command: str) -> str:
    return " · ".join(USAGE.get(command, (f"/{command}",)))
