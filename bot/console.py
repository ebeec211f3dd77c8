"""`castbot console [--demo]`: the whole product in a terminal, on the real engine and store.

With no SEGMIND_API_KEY the in-process simulator answers (and we say so). Lines come from the
keyboard with a prompt, or from a pipe for scripts; `--demo` plays a short scripted session.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from pathlib import Path
from typing import TextIO

import bot
from adapters.console.messenger import ConsoleMessenger
from adapters.console.reader import LineReader
from adapters.console.session import ConsoleSession
from bot.app import build_app
from bot.logs import configure_from_settings
from bot.settings import Settings
from core.clock import Clock

log = logging.getLogger(__name__)

SAMPLE_CHARACTER = Path(bot.__file__).parent / "assets" / "sample_character.png"
DEMO_NAME = "Sample"
MAX_LINES = 100_000  # a runaway pipe ends here rather than never


def demo_script(sample: Path = SAMPLE_CHARACTER) -> list[str]:
    return [
        f'/character save {DEMO_NAME} "{sample}" --consent a cheerful explorer with a red scarf',
        f"/imagine --char {DEMO_NAME} waving hello, full body, sunny park --n 4",
        "/quota",
    ]


async def console_main(
    settings: Settings, *, demo: bool = False, out_dir: Path | None = None, stdin: TextIO | None = None,
    stdout: TextIO | None = None, clock: Clock | None = None,
) -> int:
    stdin, stdout = stdin or sys.stdin, stdout or sys.stdout
    messenger = ConsoleMessenger(out_dir or settings.data_dir / "console", stream=stdout)
    interactive = stdin.isatty() and stdout.isatty() and not demo
    async with build_app(settings, clock=clock) as app:
        if settings.uses_simulator:
            messenger.say("No SEGMIND_API_KEY set: the built-in simulator makes placeholder images (no credits).")
        session = ConsoleSession(app.service, messenger)
        try:
            if demo:
                await play_demo(session)
            else:
                if interactive:
                    messenger.say("castbot console: /help lists commands, /quit leaves.")
                await _read_loop(session, LineReader(stdin, interactive=interactive))
        finally:
            messenger.close()
    return 0


async def _read_loop(session: ConsoleSession, reader: LineReader) -> None:
    for _ in range(MAX_LINES):
        line = await reader.read()
        if line is None:
            return
        await session.handle(line)
        if not session.running:
            return


async def play_demo(session: ConsoleSession) -> None:
    existing = await session.service.characters(session.place, prefix=DEMO_NAME)
    for line in demo_script():
        if line.startswith("/character save") and any(c.name == DEMO_NAME for c in existing):
            session.messenger.say(f"({DEMO_NAME} is already saved from an earlier demo)")
            continue
        session.messenger.say(f"> {line}")
        await session.handle(line)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--demo", action="store_true",
                        help="play a short session: save the sample character, generate four poses, show quota")
    parser.add_argument("--out", type=Path, default=None,
                        help="folder for generated images (default: <data dir>/console)")


def run(args: argparse.Namespace) -> int:
    settings = Settings()
    configure_from_settings(settings)
    if "log_level" not in settings.model_fields_set:
        # The terminal is the user interface here; routine INFO lines would drown the conversation.
        logging.getLogger().setLevel(logging.WARNING)
    return asyncio.run(console_main(settings, demo=args.demo, out_dir=args.out))


if __name__ == "__main__":
    _parser = argparse.ArgumentParser(prog="castbot console")
    add_arguments(_parser)
    sys.exit(run(_parser.parse_args()))
