"""The chaos run in miniature for CI: real `castbot run`, faults, two SIGKILLs, backup, hostile sweep,
a burst, and every invariant — the same code as `python -m tests.chaos`, smaller numbers."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from tests.chaos.driver import ChaosRun, format_table
from tests.chaos.invariants import Figures, ledger_violations
from tests.chaos.scenario import ChaosConfig


@pytest.mark.timeout(150)
async def test_small_chaos_run_keeps_every_promise(tmp_path: Path) -> None:
    # one group job per user (Telegram's 20-a-minute group pace is what makes runs long), the rest private
    config = dataclasses.replace(ChaosConfig.small(), users_per_community=2, load_seconds=12.0,
                                 settle_seconds=60.0, group_share=0.0)
    outcome = await ChaosRun(config, tmp_path, say=lambda _line: None).run()
    table = dict(outcome.rows)
    assert outcome.violations == [], format_table(outcome.rows)
    assert int(table["restarts"]) == config.kills
    assert int(table["deliveries"]) > 0
    assert int(table["hostile cases"]) > 30
    assert (tmp_path / "backup.sqlite3").is_file()


def test_ledger_check_catches_a_double_capture(tmp_path: Path) -> None:
    import sqlite3

    from core.store.schema import MIGRATIONS

    db = tmp_path / "castbot.sqlite3"
    with sqlite3.connect(db) as conn:
        for statement in MIGRATIONS[0]:
            conn.execute(statement)
        conn.execute(
            "INSERT INTO jobs (job_id, idem_key, platform, user_id, user_name, scope_id, chat_id, model, prompt,"
            " payload, inputs, cost, reply_ref, is_admin, state, created_at) VALUES"
            " ('j1', 'k1', 'telegram', 'u', 'u', 's', 'c', 'poses', '', '{}', '{}', 2, '{}', 0, 'delivered', 0)")
        for kind in ("hold", "capture", "capture"):
            conn.execute("INSERT INTO ledger (kind, source, scope_id, platform, user_id, job_id, units,"
                         " window_at, created_at) VALUES (?, 'daily', 's', 'telegram', 'u', 'j1', 2, 0, 0)",
                         (kind,))
    problems = ledger_violations(db, Figures())
    assert any("charged twice" in p for p in problems)
