"""`castbot backup PATH`: an online-consistent copy of the database, safe while `castbot run` is working.

SQLite's backup API copies the database page by page under a read transaction, so the copy is one
consistent snapshot even with the WAL in use and the engine writing. The copy goes to a temporary file
beside PATH, is checked with `PRAGMA integrity_check`, and only then renamed into place: a backup
that stops half way never leaves a truncated file where a good one was expected.
Images live as files under the data directory; copy that folder too (see docs/operators.md).

This reads the file directly rather than through `SqliteStore.open`, which migrates on open: a backup
taken with a newer castbot before an upgrade must copy the old schema untouched.
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
import time
from pathlib import Path

from bot.settings import Settings

BUSY_TIMEOUT_SECONDS = 30  # the engine holds write locks for milliseconds; wait rather than fail


class BackupError(Exception):
    """The backup could not be made; `str()` says why in one line."""


def backup_database(source: Path, dest: Path, *, overwrite: bool = False) -> Path:
    """Copy `source` to `dest` (a file, or a directory to put a timestamped file in); returns the file."""
    if not source.is_file():
        raise BackupError(f"no database at {source}: nothing to back up (is CASTBOT_DATA_DIR right?)")
    if dest.is_dir():
        dest = dest / time.strftime("castbot-%Y%m%d-%H%M%S.sqlite3", time.gmtime())
    if dest.resolve() == source.resolve():
        raise BackupError("the backup path is the database itself; choose another path")
    if dest.exists() and not overwrite:
        raise BackupError(f"{dest} already exists; pass --force to replace it")
    if not dest.parent.is_dir():
        raise BackupError(f"folder {dest.parent} does not exist")
    partial = dest.with_name(dest.name + ".partial")
    partial.unlink(missing_ok=True)
    try:
        _copy(source, partial)
        partial.replace(dest)
    except (sqlite3.Error, OSError) as exc:
        partial.unlink(missing_ok=True)
        raise BackupError(f"backup failed: {exc}") from exc
    return dest


def _copy(source: Path, target: Path) -> None:
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_SECONDS)
    try:
        dst = sqlite3.connect(target)
        try:
            src.backup(dst)
            verdict = dst.execute("PRAGMA integrity_check").fetchone()[0]
            if verdict != "ok":
                raise sqlite3.DatabaseError(f"the copy failed its integrity check: {verdict}")
        finally:
            dst.close()
    finally:
        src.close()


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", type=Path, help="file to write, or a folder for a timestamped file")
    parser.add_argument("--force", action="store_true", help="replace PATH if it exists")


def run(args: argparse.Namespace) -> int:
    settings = Settings()
    try:
        written = backup_database(settings.db_path, args.path, overwrite=args.force)
    except BackupError as exc:
        print(f"castbot backup: {exc}", file=sys.stderr)
        return 1
    size = written.stat().st_size
    print(f"backed up {settings.db_path} to {written} ({size / 1024:.0f} KiB)")
    return 0


if __name__ == "__main__":
    _parser = argparse.ArgumentParser(prog="castbot backup")
    add_arguments(_parser)
    sys.exit(run(_parser.parse_args()))
