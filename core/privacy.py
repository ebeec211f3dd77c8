"""Removing personal data: the retention pass, a person's "forget me", an operator's purge of a community.

What counts as personal: a job's prompt, payload, input photos, output images, reply reference, chat and
user name; a character's face and name; the @usernames castbot saw; a user's row. What stays: job rows and
ledger rows, for the quota arithmetic and the audit, with the person replaced by `forgotten:<random>`
(one random tag per forget, so a person's rows still add up together but lead back to nobody).

A job that has not finished is never touched: the engine still needs its inputs, and its quota hold is open.
Files are deleted only when no other live job still names them (inputs are content-addressed: two people
sending the same photo share one file).
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import os
import shutil
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from core.errors import Conflict
from core.jobs.outputs import output_folder
from core.store.auditlog import forget_user_events
from core.store.sqlite import SqliteStore
from core.types import FINAL_STATES

log = logging.getLogger(__name__)

FINAL_NAMES = tuple(str(s) for s in FINAL_STATES)
IN_FINALS = f"state IN ({', '.join('?' * len(FINAL_NAMES))})"
# A job still holding anything personal: the retention pass picks only these, so a pass is idempotent.
NOT_SCRUBBED = "(prompt != '' OR payload != '{}' OR inputs != '{}' OR reply_ref != '' OR user_name != '')"


@dataclass
class Removed:
    """What one removal took away, for the answer and the operator's log."""

    characters: int = 0
    jobs: int = 0
    files: int = 0
    usernames: int = 0
    users: int = 0
    scopes: int = 0
    kept: list[str] = field(default_factory=list)  # what deliberately stays, said aloud

    def add(self, other: Removed) -> None:
        self.characters += other.characters
        self.jobs += other.jobs
        self.files += other.files
        self.usernames += other.usernames
        self.users += other.users
        self.scopes += other.scopes

    def summary(self) -> str:
        parts = [f"{self.characters} character(s)", f"{self.jobs} job(s)' prompts and images",
                 f"{self.files} file(s)", f"{self.usernames} remembered username(s)"]
        return ", ".join(parts)


QUOTA_MEMORY = 2 * 24 * 3600.0  # longer than any quota window (a day, in any timezone): charges stay this long


def forgotten_tag() -> str:
    return f"forgotten:{uuid.uuid4().hex[:10]}"


def _is_input_file(data_dir: Path, path: Path) -> bool:
    return path.resolve().parent == (data_dir / "inputs").resolve() and path.is_file()


def _unlink(path: Path) -> int:
    try:
        path.unlink()
    except FileNotFoundError:
        return 0
    return 1


def _remove_folder(folder: Path) -> int:
    if not folder.is_dir():
        return 0
    count = sum(1 for p in folder.iterdir() if p.is_file())
    shutil.rmtree(folder, ignore_errors=True)
    return count


def _old_files(folder: Path, older_than: float, limit: int) -> list[Path]:
    """Up to `limit` files in `folder` last written before `older_than` (epoch seconds)."""
    if not folder.is_dir():
        return []
    found: list[Path] = []
    with os.scandir(folder) as entries:
        for entry in entries:
            if entry.is_file(follow_symlinks=False) and entry.stat().st_mtime < older_than:
                found.append(Path(entry.path))
                if len(found) >= limit:
                    break
    return found


class Scrubber:
    """The one way personal data leaves the store and the data directory."""

    def __init__(self, store: SqliteStore, data_dir: Path) -> None:
        self._store = store
        self._dir = Path(data_dir)
        self._suspects: set[Path] = set()

    async def anonymize_spent_quota(self) -> int:
        """Ledger charges a forget-me kept for the quota window, retagged once it has passed: a charge's job
        was retagged at the forget, so the job's tag and scope are the person's tag and scope."""
        cutoff = self._store.clock.now() - QUOTA_MEMORY
        async with self._store.transaction() as conn:
            cur = await conn.execute(
                "UPDATE ledger SET user_id = (SELECT j.user_id FROM jobs j WHERE j.job_id = ledger.job_id), "
                "scope_id = (SELECT j.scope_id FROM jobs j WHERE j.job_id = ledger.job_id) "
                "WHERE job_id IS NOT NULL AND window_at < ? AND user_id NOT LIKE 'forgotten:%' AND EXISTS "
                "(SELECT 1 FROM jobs j WHERE j.job_id = ledger.job_id AND j.user_id LIKE 'forgotten:%')", (cutoff,))
            return cur.rowcount

    # --- jobs ------------------------------------------------------------------------------------

    async def scrub_jobs(self, job_ids: list[str], *, new_user: str | None = None) -> int:
        """Empty the personal fields of these finished jobs and delete their files; returns files deleted.

        `new_user`: also replace the user id (forget-me); the retention pass keeps it for the quota window.
        """
        files = 0
        for job_id in job_ids:
            row = await self._store.fetch_one(
                f"SELECT inputs, user_id, platform FROM jobs WHERE job_id = ? AND {IN_FINALS}", (job_id, *FINAL_NAMES))
            if row is None:
                continue  # unfinished (or gone): never touched
            inputs = list(json.loads(row[0]).values())
            async with self._store.transaction() as conn:
                await conn.execute("DELETE FROM job_outputs WHERE job_id = ?", (job_id,))
                await conn.execute("DELETE FROM job_messages WHERE job_id = ?", (job_id,))
                await conn.execute(
                    "UPDATE jobs SET prompt = '', payload = '{}', inputs = '{}', reply_ref = '', user_name = '',"
                    " error = CASE WHEN error IS NULL THEN NULL ELSE '' END WHERE job_id = ?", (job_id,))
                if new_user is not None:
                    await conn.execute("UPDATE jobs SET user_id = ?, chat_id = '', idem_key = ? WHERE job_id = ?",
                                       (new_user, f"forgotten:{job_id}", job_id))
            files += await self._remove_output_folder(job_id)
            for path in inputs:
                files += await self._remove_input_if_unused(Path(path))
        return files

    async def _remove_output_folder(self, job_id: str) -> int:
        return await asyncio.to_thread(_remove_folder, output_folder(self._dir, job_id))

    async def _remove_input_if_unused(self, path: Path) -> int:
        """Only files under inputs/: a character's reference image is the character book's to delete."""
        if not await asyncio.to_thread(_is_input_file, self._dir, path):
            return 0
        row = await self._store.fetch_one("SELECT COUNT(*) FROM jobs WHERE instr(inputs, ?) > 0", (str(path),))
        if row is not None and row[0]:
            return 0
        return await asyncio.to_thread(_unlink, path)

    async def orphan_inputs(self, *, older_than: float, limit: int) -> int:
        """Input files no job names any more (a photo sent with a request that was refused), by file age."""
        removed, suspects = 0, set()
        for path in await asyncio.to_thread(_old_files, self._dir / "inputs", older_than, limit * 4):
            if removed >= limit:
                break
            # A file is written just before its job row: only one unnamed on two passes in a row is a stray.
            if path in self._suspects:
                removed += await self._remove_input_if_unused(path)
            else:
                suspects.add(path)
        self._suspects = suspects
        return removed

    # --- people and communities -------------------------------------------------------------------

    async def count_user(self, platform: str, user_id: str) -> tuple[int, int]:
        """(characters, jobs) a forget would remove."""
        who = (platform, user_id)
        characters = await self._store.fetch_one(
            "SELECT COUNT(*) FROM characters WHERE platform = ? AND owner_id = ?", who)
        jobs = await self._store.fetch_one("SELECT COUNT(*) FROM jobs WHERE platform = ? AND user_id = ?", who)
        return int(characters[0]), int(jobs[0])

    async def forget_user(self, platform: str, user_id: str, *, keep_quota_window: bool = True) -> Removed:
        """Everything of one person on one platform. Conflict while one of their jobs is still running.

        `keep_quota_window=False` (an operator's purge) retags today's charges at once too."""
        unfinished = await self._store.fetch_one(
            f"SELECT COUNT(*) FROM jobs WHERE platform = ? AND user_id = ? AND NOT {IN_FINALS}",
            (platform, user_id, *FINAL_NAMES))
        if unfinished and unfinished[0]:
            raise Conflict(f"{unfinished[0]} of your jobs is still running. Wait for it (or /cancel it), "
                           "then ask again.")
        removed = Removed()
        tag = forgotten_tag()
        for character_id, image_path in await self._store.fetch_all(
                "SELECT character_id, image_path FROM characters WHERE platform = ? AND owner_id = ?",
                (platform, user_id)):
            removed.files += await self.delete_character(character_id, Path(image_path))
            removed.characters += 1
        job_ids = [r[0] for r in await self._store.fetch_all(
            "SELECT job_id FROM jobs WHERE platform = ? AND user_id = ?", (platform, user_id))]
        removed.files += await self.scrub_jobs(job_ids, new_user=tag)
        removed.jobs = len(job_ids)
        dm_scope, dm_tag = f"dm:{user_id}", f"dm:{tag}"
        # Charges still inside a quota window keep the person's id, or forgetting would refill today's
        # allowance; anonymize_spent_quota retags them once QUOTA_MEMORY has passed.
        recent = self._store.clock.now() - QUOTA_MEMORY if keep_quota_window else math.inf
        async with self._store.transaction() as conn:
            await conn.execute("UPDATE ledger SET user_id = ? WHERE platform = ? AND user_id = ? "
                               "AND (job_id IS NULL OR window_at < ?)", (tag, platform, user_id, recent))
            # the private chat's scope id names the person: its rows move to a tag too
            await conn.execute("UPDATE jobs SET scope_id = ? WHERE platform = ? AND scope_id = ?",
                               (dm_tag, platform, dm_scope))
            await conn.execute("UPDATE ledger SET scope_id = ? WHERE platform = ? AND scope_id = ? "
                               "AND (job_id IS NULL OR window_at < ?)", (dm_tag, platform, dm_scope, recent))
            cur = await conn.execute("DELETE FROM scopes WHERE platform = ? AND scope_id = ?", (platform, dm_scope))
            removed.scopes = cur.rowcount
            await conn.execute("DELETE FROM scope_settings WHERE scope_id = ?", (dm_scope,))
            await conn.execute("DELETE FROM bans WHERE scope_id = ?", (dm_scope,))
            cur = await conn.execute("DELETE FROM seen_users WHERE platform = ? AND user_id = ?", (platform, user_id))
            removed.usernames = cur.rowcount
            cur = await conn.execute("DELETE FROM users WHERE platform = ? AND user_id = ?", (platform, user_id))
            removed.users = cur.rowcount
            await forget_user_events(conn, platform=platform, user_id=user_id, tag=tag)
        banned = await self._store.fetch_one("SELECT COUNT(*) FROM bans WHERE platform = ? AND user_id = ?",
                                             (platform, user_id))
        if banned and banned[0]:
            # a ban protects a community; forgetting must not be a way around one
            removed.kept.append(f"{banned[0]} ban(s) by community admins")
        log.info("forgot %s user as %s: %s", platform, tag, removed.summary())
        return removed

    async def purge_scope(self, scope_id: str) -> Removed:
        """Everything a community holds: its characters, its jobs' texts and files, its settings and bans."""
        unfinished = await self._store.fetch_one(
            f"SELECT COUNT(*) FROM jobs WHERE scope_id = ? AND NOT {IN_FINALS}", (scope_id, *FINAL_NAMES))
        if unfinished and unfinished[0]:
            raise Conflict(f"{unfinished[0]} job(s) in {scope_id} are still running; purge again when they finish.")
        removed = Removed()
        for character_id, image_path in await self._store.fetch_all(
                "SELECT character_id, image_path FROM characters WHERE scope_id = ?", (scope_id,)):
            removed.files += await self.delete_character(character_id, Path(image_path))
            removed.characters += 1
        job_ids = [r[0] for r in await self._store.fetch_all("SELECT job_id FROM jobs WHERE scope_id = ?",
                                                             (scope_id,))]
        removed.files += await self.scrub_jobs(job_ids, new_user="forgotten:community")
        removed.jobs = len(job_ids)
        async with self._store.transaction() as conn:
            await conn.execute("UPDATE ledger SET user_id = 'forgotten:community' WHERE scope_id = ?", (scope_id,))
            for table in ("scope_settings", "bans", "prompt_filters", "mod_events"):
                await conn.execute(f"DELETE FROM {table} WHERE scope_id = ?", (scope_id,))
            cur = await conn.execute("DELETE FROM seen_users WHERE chat_id = ?", (scope_id,))
            removed.usernames = cur.rowcount
        return removed

    async def delete_character(self, character_id: str, image_path: Path) -> int:
        """The row (and with it the cached Segmind upload URL) and the image, unless another character
        shares the content-addressed file. Returns files deleted."""
        async with self._store.transaction() as conn:
            await conn.execute("DELETE FROM characters WHERE character_id = ?", (character_id,))
        row = await self._store.fetch_one("SELECT COUNT(*) FROM characters WHERE image_path = ?", (str(image_path),))
        if row is not None and row[0] == 0:
            return await asyncio.to_thread(_unlink, image_path)
        return 0
