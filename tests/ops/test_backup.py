"""`castbot backup`: a consistent copy of a live WAL database, never a half-written file."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from bot.backup import BackupError, backup_database

REPO = Path(__file__).resolve().parents[2]


def _live_db(path: Path, rows: int) -> sqlite3.Connection:
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("CREATE TABLE jobs (id INTEGER PRIMARY KEY, state TEXT)")
    conn.executemany("INSERT INTO jobs (state) VALUES (?)", [("delivered",)] * rows)
    conn.commit()
    return conn


def test_backup_holds_committed_rows_only_while_a_writer_is_mid_transaction(tmp_path):
    db = tmp_path / "castbot.sqlite3"
    writer = _live_db(db, rows=500)
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("INSERT INTO jobs (state) VALUES ('accepted')")  # not committed yet
    try:
        copy = backup_database(db, tmp_path / "copy.sqlite3")
    finally:
        writer.rollback()
        writer.close()

    check = sqlite3.connect(copy)
    assert check.execute("SELECT count(*), count(DISTINCT state) FROM jobs").fetchone() == (500, 1)
    assert check.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    check.close()
    assert not (tmp_path / "copy.sqlite3.partial").exists()


def test_backup_into_a_folder_makes_a_timestamped_file(tmp_path):
    db = tmp_path / "castbot.sqlite3"
    _live_db(db, rows=3).close()
    folder = tmp_path / "backups"
    folder.mkdir()
    written = backup_database(db, folder)
    assert written.parent == folder
    assert written.name.startswith("castbot-") and written.suffix == ".sqlite3"


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        ("missing", "no database at"),
        ("exists", "already exists; pass --force"),
        ("self", "the backup path is the database itself"),
        ("no-folder", "does not exist"),
    ],
)
def test_backup_refuses_clearly(tmp_path, setup, message):
    db = tmp_path / "castbot.sqlite3"
    dest = tmp_path / "copy.sqlite3"
    if setup != "missing":
        _live_db(db, rows=1).close()
    if setup == "exists":
        dest.write_bytes(b"an older backup")
    if setup == "self":
        dest = db
    if setup == "no-folder":
        dest = tmp_path / "nowhere" / "copy.sqlite3"
    with pytest.raises(BackupError, match=message):
        backup_database(db, dest)
    if setup == "exists":
        assert dest.read_bytes() == b"an older backup"  # nothing lost


def test_backup_command_line(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    _live_db(data / "castbot.sqlite3", rows=7).close()
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("SEGMIND_", "TELEGRAM_", "DISCORD_", "CASTBOT_"))}
    env = {**clean, "PYTHONPATH": str(REPO), "CASTBOT_DATA_DIR": str(data)}
    command = [sys.executable, "-m", "bot.cli", "backup", str(tmp_path / "out.sqlite3")]
    first = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    again = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)

    assert first.returncode == 0, first.stderr
    assert first.stdout.startswith(f"backed up {data / 'castbot.sqlite3'} to {tmp_path / 'out.sqlite3'}")
    assert again.returncode == 1
    assert again.stderr.strip().endswith("already exists; pass --force to replace it")
    conn = sqlite3.connect(tmp_path / "out.sqlite3")
    assert conn.execute("SELECT count(*) FROM jobs").fetchone() == (7,)
    conn.close()


def test_backup_never_migrates_the_source(tmp_path):
    db = tmp_path / "castbot.sqlite3"
    conn = _live_db(db, rows=2)
    conn.execute("PRAGMA user_version = 0")  # an old schema, as before an upgrade
    conn.close()
    copy = backup_database(db, tmp_path / "pre-upgrade.sqlite3")
    for path in (db, copy):
        check = sqlite3.connect(path)
        assert check.execute("PRAGMA user_version").fetchone() == (0,)
        assert [r[0] for r in check.execute("SELECT name FROM sqlite_master WHERE type='table'")] == ["jobs"]
        check.close()
