"""The text command grammar shared by the Telegram and console adapters.

`/imagine --char Luna on a beach --n 4 --neg "blurry" --model illustration`: a command, then prompt
words and `--flag value` pairs in any order. Flags other than the grammar's own (`--model`, `--char`,
`--neg`) are handed to the catalog, which knows each model's options and ranges.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field

from core.catalog import MODELS, get_model, help_lines
from core.errors import InvalidParameter

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
    "admin": "community settings: quota, ban, unban, stats (admins only)",
}

# Generation command -> (default model, models it may be switched to with --model)
GENERATION_COMMANDS: dict[str, tuple[str, tuple[str, ...]]] = {
    "imagine": ("poses", ("poses", "illustration")),
    "pose": ("pose", ("pose", "illustration")),
    "scene": ("scene", ("scene",)),
    "sheet": ("sheet", ("sheet",)),
}

_GRAMMAR_FLAGS = {"model", "char", "character", "neg"}
_COMMAND_RE = re.compile(r"^/(?P<name>[A-Za-z0-9_]{1,32})(?:@(?P<bot>[A-Za-z0-9_]{1,64}))?(?:\s+|$)")
_FLAG_RE = re.compile(r"^--?(?P<name>[a-z][a-z0-9-]*)(?:=(?P<value>.*))?$", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class ParsedCommand:
    name: str
    addressee: str | None
    args: str


@dataclass(frozen=True, slots=True)
class GenerationArgs:
    model: str
    prompt: str
    negative: str | None
    character: str | None
    flags: dict[str, str] = field(default_factory=dict)


def parse_command(text: str) -> ParsedCommand | None:
    """Split `/name@bot args`; None when the text is not a command."""
    match = _COMMAND_RE.match(text.strip())
    if match is None:
        return None
    return ParsedCommand(match["name"].lower(), match["bot"], text.strip()[match.end():].strip())


def split_args(args: str) -> list[str]:
    """shlex split that turns unbalanced quotes into a friendly error."""
    try:
        return shlex.split(args.replace("“", '"').replace("”", '"'))
    except ValueError:
        raise InvalidParameter("A quote is not closed: put text with spaces inside \"double quotes\".") from None


def parse_flags(args: str) -> tuple[list[str], dict[str, str]]:
    """Words and `--flag value` pairs; a flag at the end with no value is an error."""
    words: list[str] = []
    flags: dict[str, str] = {}
    tokens = split_args(args)
    i = 0
    while i < len(tokens):
        token = tokens[i]
        match = _FLAG_RE.match(token) if token.startswith("--") else None
        if match is None:
            words.append(token)
            i += 1
            continue
        name = match["name"].lower()
        if match["value"] is not None:
            flags[name] = match["value"]
            i += 1
            continue
        if i + 1 >= len(tokens):
            raise InvalidParameter(f"--{name} needs a value, e.g. --{name} 4.", param=name)
        flags[name] = tokens[i + 1]
        i += 2
    return words, flags


def parse_generation(command: str, args: str) -> GenerationArgs:
    """Parse the arguments of /imagine, /pose, /scene or /sheet."""
    if command not in GENERATION_COMMANDS:
        raise InvalidParameter(f"/{command} does not generate images.")
    default, allowed = GENERATION_COMMANDS[command]
    words, flags = parse_flags(args)
    model = flags.pop("model", default).lower()
    if model not in allowed:
        raise InvalidParameter(
            f"/{command} works with --model {' or '.join(allowed)}, not “{model}”.", param="model"
        )
    get_model(model)
    character = flags.pop("char", None) or flags.pop("character", None)
    negative = flags.pop("neg", None)
    return GenerationArgs(model, " ".join(words), negative, character, flags)


def help_text(command: str | None = None) -> str:
    """Plain-text help, generated from the command table and the catalog."""
    if not command:
        lines = ["castbot commands:"]
        lines += [f"/{name} — {text}" for name, text in COMMANDS.items()]
        lines.append("Send /help <command> for its options.")
        return "\n".join(lines)
    name = command.lstrip("/").lower()
    if name not in COMMANDS:
        raise InvalidParameter(f"There is no /{name} command. Send /help for the list.")
    lines = [f"/{name} — {COMMANDS[name]}"]
    if name in GENERATION_COMMANDS:
        _, allowed = GENERATION_COMMANDS[name]
        lines.append(f"Usage: /{name} [prompt] [--char NAME] [--model {'|'.join(allowed)}] [options]")
        lines.append("Attach the character photo (or use --char NAME for a saved one).")
        for key in allowed:
            model = MODELS[key]
            images = ", ".join(f"{s.role}{'' if s.required else ' (optional)'}" for s in model.images)
            cost = f"{model.weight} unit(s) per image"
            lines.append(f"Model {key}: {model.summary}. Images: {images}. Cost: {cost}.")
            lines += [f"  {line}" for line in help_lines(model)]
    elif name == "character":
        lines += [
            "/character save NAME [description] — as the caption of a photo, or replying to one",
            "/character list · /character show NAME · /character rename OLD NEW · /character delete NAME",
        ]
    elif name == "admin":
        lines += [
            "/admin quota --daily N [--pool N] [--window calendar|rolling] [--timezone Europe/Paris]",
            "/admin ban USER_ID · /admin unban USER_ID · /admin stats",
        ]
    return "\n".join(lines)
