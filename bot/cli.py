"""The `castbot` command line. Each subcommand lives in its own module under bot/ and registers here."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

# (name, module, help). Each module has `add_arguments(parser)` and `run(args) -> int`.
SUBCOMMANDS: tuple[tuple[str, str, str], ...] = (
    ("generate", "bot.generate", "generate images once, from the command line"),
    ("simulate", "bot.simulate", "serve the Segmind simulator on a local port"),
    ("run", "bot.run", "run the bot on every platform that has a token configured"),
    ("console", "bot.console", "talk to castbot in this terminal (no tokens needed)"),
    ("doctor", "bot.doctor", "check settings, tokens, the Segmind key, data dir and database"),
    ("backup", "bot.backup", "copy the database safely while castbot runs"),
    ("purge", "bot.purge", "remove one person's or one community's data (see docs/privacy.md)"),
    ("admin-log", "bot.adminlog", "a community's audit log: jobs with prompts and moderation events (--csv)"),
)


def build_parser() -> argparse.ArgumentParser:
    import importlib

    parser = argparse.ArgumentParser(prog="castbot", description="Consistent-character bot for Discord and Telegram.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, module_name, help_text in SUBCOMMANDS:
        module = importlib.import_module(module_name)
        sp = sub.add_parser(name, help=help_text, description=help_text)
        module.add_arguments(sp)
        runner: Callable[[argparse.Namespace], int] = module.run
        sp.set_defaults(func=runner)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
