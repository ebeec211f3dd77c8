"""The audit trail through the console adapter on the real app: reports, /admin log, removal with a ban,
retention and /forget_me of the moderation log, and the operator's CSV export."""

from __future__ import annotations

import asyncio
import csv
import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from adapters.console.session import ConsoleSession
from bot.adminlog import read_log, safe_cell, write_csv
from core.commands import answers as a
from core.commands import types as c
from core.errors import BadOptionValue, Conflict, NotAllowed, NotFoundError
from core.moderation.audit import REPORTS_PER_DAY, AuditDesk, parse_since
from core.retention import DAY
from core.store.auditlog import AuditStore
from core.types import Actor, Place
from tests.console.conftest import ConsoleWorld
from tests.privacy.conftest import photos, walk_data

pytestmark = pytest.mark.timeout(120)

CLUB = Place("console", "console:club", "console:club")
PROMPT = "a secret knight in the rain"
REPO = Path(__file__).resolve().parents[2]


class Club:
    """Ada (the author), Bob (a member) and Mod (an admin) in one console community."""

    def __init__(self, world: ConsoleWorld, tmp_path: Path) -> None:
        self.world = world
        self.sessions = {name: ConsoleSession(world.app.service, world.session.messenger, base_dir=tmp_path,
                                              identity=(Actor("console", name, name.title(), name == "mod"), CLUB))
                         for name in ("ada", "bob", "mod")}

    async def line(self, who: str, text: str) -> tuple[a.Answer | None, Exception | None, str]:
        session = self.sessions[who]
        self.world.session = session  # ConsoleWorld.line drives whichever session is current
        printed = await self.world.line(text)
        return session.last_answer, session.last_error, printed

    async def events(self, kind: str) -> int:
        row = await self.world.app.store.fetch_one(
            "SELECT COUNT(*) FROM mod_events WHERE scope_id = ? AND kind = ?", (CLUB.scope_id, kind))
        return int(row[0])


async def _generate(club: Club, who: str, image: str, prompt: str = PROMPT) -> str:
    answer, error, _ = await club.line(who, f"/imagine --image {image} {prompt}")
    assert error is None and isinstance(answer, a.JobAccepted), error
    return answer.view.job_id


async def test_report_reaches_the_log_and_an_admin_removes_and_bans_in_one_step(console, tmp_path: Path) -> None:
    club = Club(console, tmp_path)
    image, _ = photos(tmp_path)
    job_id = await _generate(club, "ada", image)
    written = sorted(console.images_dir.glob(f"{job_id[:8]}-*"))
    stored = await console.app.store.fetch_all("SELECT path FROM job_outputs WHERE job_id = ?", (job_id,))
    assert written and stored

    answers = [await club.line("bob", f"/report {job_id}") for _ in range(3)]  # a flood of presses
    assert {type(answer) for answer, _, _ in answers} == {a.Reported}
    assert len({printed for _, _, printed in answers}) == 1  # a repeat reads exactly like the first
    assert all(PROMPT not in printed and "ada" not in printed.lower() for _, _, printed in answers)
    assert await club.events("report") == 1

    _, refused, printed = await club.line("bob", "/admin log")
    assert isinstance(refused, NotAllowed) and PROMPT not in printed
    page, _, printed = await club.line("mod", "/admin log")
    assert isinstance(page, a.LogPage)
    assert [(e.kind, e.user_id, e.actor_id) for e in page.entries] == [("report", "ada", "bob"), ("job", "ada", "")]
    assert PROMPT in printed and "reported" in printed

    removed, error, printed = await club.line("mod", f"/admin remove {job_id} --ban")
    assert error is None and isinstance(removed, a.OutputDeleted), error
    assert removed.messages == len(written) and removed.banned_user == "ada"
    assert not any(path.exists() for path in written)  # the console's "messages": its written files
    assert not any(Path(p).exists() for (p,) in stored)
    assert await console.app.store.fetch_all("SELECT * FROM job_outputs WHERE job_id = ?", (job_id,)) == []
    assert (await club.events("output_deleted"), await club.events("ban")) == (1, 1)
    _, banned, _ = await club.line("ada", f"/imagine --image {image} again")
    assert isinstance(banned, NotAllowed)
    _, refused, _ = await club.line("bob", f"/admin remove {job_id}")
    assert isinstance(refused, NotAllowed)


async def test_a_refused_ban_removes_nothing_and_a_job_elsewhere_is_not_found(console, tmp_path: Path) -> None:
    club = Club(console, tmp_path)
    image, _ = photos(tmp_path)
    job_id = await _generate(club, "ada", image)
    _, refused, _ = await club.line("ada", f"/admin remove {job_id} --ban")  # her own: no ban, so no removal
    assert isinstance(refused, NotAllowed)
    assert await console.app.store.fetch_all("SELECT path FROM job_outputs WHERE job_id = ?", (job_id,))
    # the same job seen from another community (ada's own console scope): it doesn't exist there
    console.session = ConsoleSession(console.app.service, console.session.messenger, user="bob", base_dir=tmp_path)
    await console.line(f"/report {job_id}")
    assert isinstance(console.session.last_error, NotFoundError)
    assert await club.events("report") == 0


async def test_the_log_pages_filters_by_user_and_time(console, tmp_path: Path) -> None:
    club = Club(console, tmp_path)
    image, _ = photos(tmp_path)
    ada = [await _generate(club, "ada", image, f"ada prompt {n}") for n in range(3)]
    await console.clock.advance(3 * DAY)
    bob = [await _generate(club, "bob", image, f"bob prompt {n}") for n in range(2)]
    desk, mod = AuditDesk(console.app.service), club.sessions["mod"].actor

    async def page(**kw: object) -> a.LogPage:
        return await desk.log(mod, CLUB, c.AdminLog(**kw), page_size=2)  # type: ignore[arg-type]

    first, second, third = await page(), await page(page=2), await page(page=3)
    assert [e.job_id for p in (first, second, third) for e in p.entries] == [*reversed(bob), *reversed(ada)]
    assert (first.has_more, second.has_more, third.has_more) == (True, True, False)
    assert [e.prompt for e in (await page(since="1d")).entries] == ["bob prompt 1", "bob prompt 0"]
    only_ada = await page(user=c.UserRef(user_id="ada"), page=2)
    assert [e.job_id for e in only_ada.entries] == [ada[0]]
    with pytest.raises(BadOptionValue):
        await page(since="last tuesday")


def test_since_reads_durations_and_dates() -> None:
    now = 1_800_000_000.0
    assert parse_since("2h", now) == now - 7200 and parse_since("3D", now) == now - 3 * 86_400
    assert parse_since("30m", now) == now - 1800 and parse_since("1w", now) == now - 7 * 86_400
    assert parse_since("99999d", now) == now - 3650 * 86_400  # bounded
    assert parse_since("2026-12-01", now) == 1_796_083_200.0  # midnight UTC
    assert parse_since("2026-12-01T02:00+02:00", now) == 1_796_083_200.0
    for bad in ("", "yesterday", "2h30", "-1d"):
        with pytest.raises(BadOptionValue):
            parse_since(bad, now)


async def test_reports_are_written_once_under_concurrent_presses_and_capped_per_day(console, tmp_path: Path) -> None:
    store = AuditStore(console.app.store)
    job_id = await _generate(Club(console, tmp_path), "ada", photos(tmp_path)[0])
    now = console.clock.now()

    async def press(actor: str, job: str) -> str:
        return await store.report_once(scope_id=CLUB.scope_id, platform="console", job_id=job, user_id="ada",
                                       actor_id=actor, now=now, day_cap=2)
    outcomes = await asyncio.gather(*(press("bob", job_id) for _ in range(20)))
    assert sorted(outcomes) == ["new"] + ["repeat"] * 19
    assert [await press("bob", "other-job"), await press("bob", "third-job")] == ["new", "cap"]
    for n in range(REPORTS_PER_DAY):  # carol has reported a day's worth of other jobs
        await store.report_once(scope_id=CLUB.scope_id, platform="console", job_id=f"x{n}", user_id="ada",
                                actor_id="carol", now=now, day_cap=REPORTS_PER_DAY)
    with pytest.raises(Conflict, match="reports today"):  # worded, and nothing written
        await AuditDesk(console.app.service).report(Actor("console", "carol", "carol"), CLUB, job_id)
    rows = await store.db.fetch_all("SELECT actor_id FROM mod_events WHERE job_id = ?", (job_id,))
    assert [r[0] for r in rows] == ["bob"]


async def test_retention_and_forget_me_reach_the_moderation_log(console, tmp_path: Path) -> None:
    club = Club(console, tmp_path)
    await console.app.retention.stop()
    image, _ = photos(tmp_path)
    old = await _generate(club, "ada", image)
    await club.line("bob", f"/report {old}")
    await console.clock.advance(31 * DAY)
    new = await _generate(club, "ada", image)
    await club.line("bob", f"/report {new}")
    await console.app.retention.prune_once()
    reports = await console.app.store.fetch_all("SELECT job_id FROM mod_events WHERE kind = 'report'")
    assert reports == [(new,)]  # older than CASTBOT_RETENTION_DAYS (30): gone with the job's prompt

    await club.line("ada", "/forget-me --confirm")
    rows = await console.app.store.fetch_all("SELECT user_id, actor_id, job_id FROM mod_events")
    assert rows and all(user.startswith("forgotten:") for user, _, _ in rows)
    assert [actor for _, actor, _ in rows] == ["bob"]  # the reporter is not the one who asked to be forgotten
    assert not [hit for hit in walk_data(console.app.settings.data_dir, ("'ada'",)) if hit.startswith("mod_events")]


async def test_csv_export_has_every_entry_and_no_cell_a_spreadsheet_would_run(console, tmp_path: Path) -> None:
    club = Club(console, tmp_path)
    image, _ = photos(tmp_path)
    hostile = ["=HYPERLINK(http://evil)", "+1+cmd", "-2+3", "@SUM(A1)", "plain words"]
    jobs = [await _generate(club, "ada", image, prompt) for prompt in hostile]
    await club.line("bob", f"/report {jobs[0]}")

    entries = await read_log(console.app.settings, scope=CLUB.scope_id, since="1d")
    out = io.StringIO()
    assert write_csv(entries, out) == len(hostile) + 1
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    prompts = [row["prompt"] for row in rows if row["kind"] == "job"]
    assert prompts == ["plain words", "'@SUM(A1)", "'-2+3", "'+1+cmd", "'=HYPERLINK(http://evil)"]
    assert rows[0]["kind"] == "report"
    assert all(not cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row.values())
    assert (safe_cell("-1001234"), safe_cell("-1+1"), safe_cell("\tx")) == ("-1001234", "'-1+1", "'\tx")


async def test_the_admin_log_command_line_writes_csv_and_refuses_a_bad_since(console, tmp_path: Path) -> None:
    club = Club(console, tmp_path)
    await _generate(club, "ada", photos(tmp_path)[0], "=cmd|' /C calc'!A0")
    data, out = console.app.settings.data_dir, tmp_path / "log.csv"

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        clean = {k: v for k, v in os.environ.items() if not k.startswith(("SEGMIND_", "TELEGRAM_", "DISCORD_",
                                                                         "CASTBOT_"))}
        env = {**clean, "PYTHONPATH": str(REPO), "CASTBOT_DATA_DIR": str(data)}
        return subprocess.run([sys.executable, "-m", "bot.cli", "admin-log", "--scope", CLUB.scope_id, *args],
                              cwd=data, env=env, capture_output=True, text=True, timeout=120)

    written = await asyncio.to_thread(cli, "--since", "1w", "--csv", str(out))
    bad = await asyncio.to_thread(cli, "--since", "soon")
    lines = await asyncio.to_thread(cli)

    assert written.returncode == 0 and written.stdout.startswith("wrote 1 entries"), written.stderr
    (row,) = csv.DictReader(out.open(newline="", encoding="utf-8"))
    assert row["prompt"] == "'=cmd| /C calc!A0" and row["user_id"] == "ada" and row["kind"] == "job"
    assert bad.returncode == 1 and "2h, 3d" in bad.stderr
    assert lines.returncode == 0 and "job " in lines.stdout and "Ada (ada)" in lines.stdout
