"""`castbot purge --user PLATFORM:ID | --community SCOPE`: the operator's forget-me (docs/privacy.md).

Does what /forget_me does for one person, or removes a whole community's characters, job texts and
files. Safe while `castbot run` works (the store's writes wait for each other); refuses while the
person or community has a job still running, so nothing the engine needs disappears under it.
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from bot.settings import Settings
from core.clock import SystemClock
from core.errors import UserError
from core.privacy import Removed, Scrubber
from core.store.sqlite import SqliteStore


async def purge(settings: Settings, *, user: str | None = None, community: str | None = None) -> Removed:
    """One of `user` ("telegram:123") or `community` (a scope id as castbot stores it)."""
    store = await SqliteStore.open(settings.db_path, clock=SystemClock(), data_dir=settings.data_dir,
                                   default_daily_units=settings.default_daily_units)
    try:
        scrubber = Scrubber(store, settings.data_dir)
        if user is not None:
            platform, _, user_id = user.partition(":")
            if not platform or not user_id:
                raise UserError(f"--user takes PLATFORM:ID, e.g. telegram:123456; got {user!r}")
            return await scrubber.forget_user(platform, user_id, keep_quota_window=False)
        assert community is not None
        return await scrubber.purge_scope(community)
    finally:
        await store.close()


def add_arguments(parser: argparse.ArgumentParser) -> None:
    who = parser.add_mutually_exclusive_group(required=True)
    who.add_argument("--user", metavar="PLATFORM:ID", help="one person, e.g. telegram:123456 or discord:987")
    who.add_argument("--community", metavar="SCOPE", help="a community's scope id (a Telegram chat id, a "
                     "Discord server id, dm:USER for a private chat)")


def run(args: argparse.Namespace) -> int:
    settings = Settings()
    if not settings.db_path.is_file():
        print(f"castbot purge: no database at {settings.db_path} (is CASTBOT_DATA_DIR right?)", file=sys.stderr)
        return 1
    try:
        removed = asyncio.run(purge(settings, user=args.user, community=args.community))
    except UserError as exc:
        print(f"castbot purge: {exc}", file=sys.stderr)
        return 1
    kept = f"; kept: {', '.join(removed.kept)}" if removed.kept else ""
    print(f"purged {args.user or args.community}: removed {removed.summary()}{kept}")
    return 0
