"""Saved characters: a name, a description and one normalized reference image, per community scope.

Reference images are content-addressed (`data_dir/characters/<sha256>.<ext>`): the same photo saved
twice is stored once, and the file is deleted when the last character using it goes. File creation and
deletion happen under one lock together with the row change, so a save and a delete of the same image
cannot race into a row that points at a missing file. A crash can at worst leave an unreferenced file.
"""

from __future__ import annotations

import asyncio
import dataclasses
import difflib
import logging
import unicodedata
import uuid
from pathlib import Path
from typing import Any

from core.clock import Clock
from core.errors import Conflict, NotFoundError, UserError
from core.files import write_atomic
from core.images import normalize_image
from core.names import name_key, skeleton
from core.store.sqlite import JobRecord, SqliteStore
from core.types import CharacterView

log = logging.getLogger(__name__)

MAX_NAME = 32
MAX_DESCRIPTION = 500
_NAME_PUNCTUATION = frozenset(" -_")
_COLUMNS = "character_id, name, description, owner_id, scope_id, image_path, created_at"


def clean_name(raw: str) -> str:
    """Validate a character name: 1–32 letters, digits, spaces, '-' or '_' (inner spaces collapsed, NFC).

    NFC first: "Luna" + a combining accent is the one letter "á" it shows, not a letter and a symbol.
    """
    name = " ".join(unicodedata.normalize("NFC", raw).split())
    if not 1 <= len(name) <= MAX_NAME or not all(c.isalnum() or c in _NAME_PUNCTUATION for c in name):
        raise UserError(
            f"Character names are 1–{MAX_NAME} characters: letters, digits, spaces, '-' or '_'. "
            f"Try something like 'Captain Mira'."
        )
    return name


def with_description(prompt: str, character: CharacterView) -> str:
    """The prompt a job sends when it uses a saved character: its description appended."""
    if not character.description:
        return prompt
    return f"{prompt.rstrip().rstrip('.')}. {character.description}" if prompt.strip() else character.description


def _view(row: Any) -> CharacterView:
    character_id, name, description, owner_id, scope_id, image_path, created_at = row
    return CharacterView(character_id=character_id, name=name, description=description, owner_id=owner_id,
                         scope_id=scope_id, image_path=image_path, created_at=float(created_at))


class CharacterBook:
    def __init__(self, store: SqliteStore, data_dir: Path, *, clock: Clock) -> None:
        self._store = store
        self._dir = Path(data_dir) / "characters"
        self._clock = clock
        self._files = asyncio.Lock()

    async def save(self, *, platform: str, scope_id: str, owner_id: str, name: str, image: bytes,
                   description: str = "", consent: bool, consent_how: str = "flag") -> CharacterView:
        """`consent_how` is recorded with who (the owner: only the saver may confirm) and when: 'flag',
        'button' or 'character' (see schema migration 3)."""
        if not consent:
            raise UserError("Before saving a character from a photo, please confirm you have the right to "
                            "use that person's face (yourself, or someone who agreed).")
        name = clean_name(name)
        description = " ".join(description.split())
        if len(description) > MAX_DESCRIPTION:
            raise UserError(f"The description is {len(description)} characters; keep it under {MAX_DESCRIPTION}.")
        normalized = await asyncio.to_thread(normalize_image, image)
        path = self._dir / f"{normalized.sha256}{normalized.extension}"
        now = self._clock.now()
        view = CharacterView(character_id=uuid.uuid4().hex[:12], name=name, description=description,
                             owner_id=owner_id, scope_id=scope_id, image_path=str(path), created_at=now)
        async with self._files:
            await asyncio.to_thread(write_atomic, path, normalized.data, once=True)
            try:
                await self._insert(view, platform=platform, sha256=normalized.sha256, consent_how=consent_how)
            except BaseException:
                await self._remove_if_unused(path)
                raise
        log.info("character %s saved in scope %s", view.character_id, scope_id)
        return view

    async def _insert(self, view: CharacterView, *, platform: str, sha256: str, consent_how: str) -> None:
        async with self._store.transaction() as conn:
            limit = (await self._store.policy_on(conn, view.scope_id)).character_limit
            async with conn.execute("SELECT COUNT(*) FROM characters WHERE scope_id = ?", (view.scope_id,)) as cur:
                count = (await cur.fetchone())[0]
            if count >= limit:
                raise Conflict(f"This community already has {count} saved characters (the limit is {limit}). "
                               "Delete one first.")
            await self._check_free(conn, view.scope_id, view.name)
            await conn.execute(
                "INSERT INTO characters (character_id, scope_id, platform, owner_id, name, name_key, description,"
                " image_path, image_sha256, consent_at, consent_by, consent_how, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (view.character_id, view.scope_id, platform, view.owner_id, view.name, name_key(view.name),
                 view.description, view.image_path, sha256, view.created_at, view.owner_id, consent_how,
                 view.created_at))

    @staticmethod
    async def _check_free(conn: Any, scope_id: str, name: str, *, except_id: str = "") -> None:
        """Refuse a name that is, or looks like, another character's here (core/names.py says "looks")."""
        key, shape = name_key(name), skeleton(name)
        async with conn.execute("SELECT character_id, name, name_key FROM characters WHERE scope_id = ?",
                                (scope_id,)) as cur:
            rows = await cur.fetchall()
        for character_id, existing, existing_key in rows:
            if character_id == except_id:
                continue
            if existing_key == key or name_key(existing) == key:
                raise Conflict(f"A character named '{existing}' already exists here. Pick another name.")
            if skeleton(existing) == shape:
                raise Conflict(f"A character named '{existing}' already exists here, and '{name}' looks the "
                               "same. Pick a name that reads differently.")

    async def get(self, *, scope_id: str, name: str) -> CharacterView:
        row = await self._store.fetch_one(f"SELECT {_COLUMNS} FROM characters WHERE scope_id = ? AND name_key = ?",
                                          (scope_id, name_key(name)))
        if row is not None:
            return _view(row)
        names = [r[0] for r in await self._store.fetch_all(
            "SELECT name FROM characters WHERE scope_id = ? ORDER BY name_key LIMIT 500", (scope_id,))]
        # typed with a look-alike letter, or saved before keys were NFKC: one name can have that shape
        same_shape = [n for n in names if skeleton(n) == skeleton(name)]
        if len(same_shape) == 1:
            row = await self._store.fetch_one(f"SELECT {_COLUMNS} FROM characters WHERE scope_id = ? AND name = ?",
                                              (scope_id, same_shape[0]))
            if row is not None:
                return _view(row)
        close = difflib.get_close_matches(name, names, n=3, cutoff=0.5) or difflib.get_close_matches(
            name.casefold(), [n.casefold() for n in names], n=3, cutoff=0.5)
        hint = f" Did you mean: {', '.join(close)}?" if close else " See the saved ones with /character list."
        raise NotFoundError(f"No character named '{name[:MAX_NAME]}' here.{hint}")

    async def exists(self, character_id: str) -> bool:
        return await self.by_id(character_id) is not None

    async def by_id(self, character_id: str) -> CharacterView | None:
        row = await self._store.fetch_one(f"SELECT {_COLUMNS} FROM characters WHERE character_id = ?",
                                          (character_id,))
        return None if row is None else _view(row)

    async def own_consented_face(self, user_id: str, job: JobRecord) -> bool:
        """Was every photo behind this job already confirmed by this saver? Only when it was made from their own
        saved character, still saved, and nothing else: a raw photo (`/imagine` with an upload, a pose or scene
        picture) was never confirmed, a deleted character's face must not come back without a fresh
        confirmation, and someone else's character was confirmed by them, not by this saver."""
        if not job.character_id:
            return False
        character = await self.by_id(job.character_id)
        if character is None or character.owner_id != user_id or character.scope_id != job.scope_id:
            return False
        return all(path == character.image_path for path in job.inputs.values())

    async def list(self, *, scope_id: str, prefix: str = "", offset: int = 0, limit: int = 25) -> list[CharacterView]:
        key = name_key(prefix)
        rows = await self._store.fetch_all(
            f"SELECT {_COLUMNS} FROM characters WHERE scope_id = ? AND SUBSTR(name_key, 1, ?) = ? "
            "ORDER BY name_key LIMIT ? OFFSET ?", (scope_id, len(key), key, max(1, min(limit, 100)), max(0, offset)))
        return [_view(r) for r in rows]

    async def count(self, *, scope_id: str) -> int:
        row = await self._store.fetch_one("SELECT COUNT(*) FROM characters WHERE scope_id = ?", (scope_id,))
        return int(row[0]) if row else 0

    async def rename(self, *, scope_id: str, name: str, new_name: str) -> CharacterView:
        """Who may rename is core.permissions' call, made by CastService before this."""
        character = await self.get(scope_id=scope_id, name=name)
        new_name = clean_name(new_name)
        async with self._store.transaction() as conn:
            await self._check_free(conn, scope_id, new_name, except_id=character.character_id)
            cur = await conn.execute("UPDATE characters SET name = ?, name_key = ? WHERE character_id = ?",
                                     (new_name, name_key(new_name), character.character_id))
            if cur.rowcount == 0:  # deleted between our read and this write
                raise NotFoundError(f"No character named '{character.name}' here any more.")
        return dataclasses.replace(character, name=new_name)

    async def delete(self, *, scope_id: str, name: str) -> None:
        """Who may delete is core.permissions' call, made by CastService before this."""
        character = await self.get(scope_id=scope_id, name=name)
        async with self._files:
            async with self._store.transaction() as conn:
                await conn.execute("DELETE FROM characters WHERE character_id = ?", (character.character_id,))
            await self._remove_if_unused(Path(character.image_path))
        log.info("character %s deleted from scope %s", character.character_id, scope_id)

    async def _remove_if_unused(self, path: Path) -> None:
        row = await self._store.fetch_one("SELECT COUNT(*) FROM characters WHERE image_path = ?", (str(path),))
        if row is not None and row[0] == 0:
            await asyncio.to_thread(path.unlink, missing_ok=True)

    async def image_bytes(self, character: CharacterView) -> bytes:
        try:
            return await asyncio.to_thread(Path(character.image_path).read_bytes)
        except FileNotFoundError:
            log.error("reference image of character %s is missing", character.character_id)
            raise NotFoundError(f"The image of '{character.name}' is missing; save the character again.") from None

    async def cached_upload(self, character_id: str, *, max_age: float) -> str | None:
        """The Segmind URL of this character's image if uploaded less than `max_age` seconds ago."""
        row = await self._store.fetch_one(
            "SELECT upload_url, uploaded_at FROM characters WHERE character_id = ?", (character_id,))
        if row is None or row[0] is None or row[1] is None:
            return None
        return row[0] if self._clock.now() - float(row[1]) <= max_age else None

    async def remember_upload(self, character_id: str, url: str) -> None:
        async with self._store.transaction() as conn:
            await conn.execute("UPDATE characters SET upload_url = ?, uploaded_at = ? WHERE character_id = ?",
                               (url, self._clock.now(), character_id))
