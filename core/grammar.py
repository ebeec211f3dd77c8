"""Legacy: the old text-grammar entry points, kept until the Telegram and Discord adapters move to
`core.commands` (parser, router, help). Removed when they do; new code imports core.commands.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from core.commands.help import help_answer, help_lines
from core.commands.parser import ParsedCommand, parse_command, parse_flags, split_args
from core.commands.precheck import resolve_model
from core.commands.table import COMMANDS, GENERATION
from core.commands.types import Generate
from core.errors import InvalidParameter

__all__ = ["COMMANDS", "GENERATION_COMMANDS", "GenerationArgs", "ParsedCommand", "help_text", "parse_command",
           "parse_flags", "parse_generation", "split_args"]

GENERATION_COMMANDS = GENERATION


@dataclass(frozen=True, slots=True)
class GenerationArgs:
    model: str
    prompt: str
    negative: str | None
    character: str | None
    flags: dict[str, str] = field(default_factory=dict)


def parse_generation(command: str, args: str) -> GenerationArgs:
    if command not in GENERATION:
        raise InvalidParameter(f"/{command} does not generate images.")
    words, flags = parse_flags(args)
    model = flags.pop("model", None)
    character = flags.pop("char", None) or flags.pop("character", None)
    negative = flags.pop("neg", None)
    key = resolve_model(Generate(command, model=model.lower() if model else None)).key
    return GenerationArgs(key, " ".join(words), negative, character, flags)


def help_text(command: str | None = None) -> str:
    return "\n".join(help_lines(help_answer(command)))
