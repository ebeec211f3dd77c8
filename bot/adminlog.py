"""`castbot admin-log --scope S [--since 3d] [--user ID] [--csv FILE]`: a community's audit log for the operator.

The same entries `/admin log` shows a community's admins (jobs with their prompts, merged with the
moderation log), all of them, newest first: as lines on the terminal, or as CSV for a spreadsheet. A CSV
cell that a spreadsheet would run as a formula (it starts with = + - @, a tab or a carriage return) is
written with a leading ' so a prompt like `=HYPERLINK(...)` stays text; plain numbers (a Telegram chat
id like -1001234) are left as they are.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import re
import sys
import time
from collections.abc import Iterable, Sequence
from typing import TextIO

from bot.settings import Settings
from core.clock import SystemClock
from core.commands.answers import LogEntry
from core.errors import UserError, word
from core.moderation.audit import all_log_entries, parse_since
from core.moderation.logtext import log_line
from core.store.sqlite import SqliteStore

COLUMNS = ("time_utc", "kind", "user_id", "user_name", "chat_id", "job_id", "model", "prompt", "outcome", "actor_id")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"^[+-]?\d+(\.\d+)?$")


def safe_cell(value: str) -> str:
    """CSV-injection guard: a cell a spreadsheet would evaluate becomes text."""
    if value.startswith(_FORMULA_START) and not _NUMBER.match(value):
        return "'" + value
    return value


def csv_row(entry: LogEntry) -> list[str]:
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(entry.at))
    values = (stamp, entry.kind, entry.user_id, entry.user_name, entry.chat_id, entry.job_id, entry.model,
              entry.prompt, entry.outcome, entry.actor_id)
    return [safe_cell(str(v)) for v in values]


def write_csv(entries: Iterable[LogEntry], out: TextIO) -> int:
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    count = 0
    for entry in entries:
        writer.writerow(csv_row(entry))
        count += 1
    return count


async def read_log(settings: Settings, *, scope: str, platform: str | None = None, user: str | None = None,
                   since: str | None = None) -> Sequence[LogEntry]:
    clock = SystemClock()
    store = await SqliteStore.open(settings.db_path, clock=clock, data_dir=settings.data_dir,
                                   default_daily_units=settings.default_daily_units)
    try:
        start = parse_since(since, clock.now()) if since else None
        return await all_log_entries(store, scope_id=scope, platform=platform, user_id=user, since=start)
    finally:
        await store.close()


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--scope", required=True, help="the community's scope id (a Telegram chat id, a Discord "
                        "server id, dm:USER for a private chat)")
    parser.add_argument("--platform", help="only this platform's entries (telegram, discord, console)")
    parser.add_argument("--user", metavar="ID", help="only this member's jobs and events")
    parser.add_argument("--since", help="e.g. 2h, 3d, 1w or 2026-12-01")
    parser.add_argument("--csv", metavar="FILE", help="write CSV to FILE ('-' for standard output)")


def run(args: argparse.Namespace) -> int:
    settings = Settings()
    if not settings.db_path.is_file():
        print(f"castbot admin-log: no database at {settings.db_path} (is CASTBOT_DATA_DIR right?)", file=sys.stderr)
        return 1
    try:
        entries = asyncio.run(read_log(settings, scope=args.scope, platform=args.platform, user=args.user,
                                       since=args.since))
    except UserError as exc:
        print(f"castbot admin-log: {word(exc)}", file=sys.stderr)
        return 1
    if args.csv == "-":
        write_csv(entries, sys.stdout)
    elif args.csv:
        with open(args.csv, "w", newline="", encoding="utf-8") as out:
            count = write_csv(entries, out)
        print(f"wrote {count} entries to {args.csv}")
    else:
        for entry in entries:
            print(log_line(entry))
    return 0
