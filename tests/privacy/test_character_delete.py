"""Deleting a character takes its photo and its cached Segmind upload with it, unless another shares the file."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.privacy.conftest import photos, walk_data

pytestmark = pytest.mark.timeout(60)


async def test_delete_removes_the_photo_once_no_character_shares_it(console, tmp_path: Path) -> None:
    a, _ = photos(tmp_path)
    book = console.app.book
    await console.line(f"/character save Mira {a} --consent")
    await console.line(f"/character save Nora {a} --consent")  # the same photo: one content-addressed file
    mira = await book.get(scope_id="dm:ada", name="Mira")
    nora = await book.get(scope_id="dm:ada", name="Nora")
    assert mira.image_path == nora.image_path and Path(mira.image_path).exists()
    await book.remember_upload(mira.character_id, "https://storage.example/face-of-mira.png")

    assert (await console.line("/character delete Mira")).strip() == "deleted Mira"

    assert Path(nora.image_path).exists()  # Nora still uses it
    assert walk_data(console.app.settings.data_dir, ("face-of-mira", mira.character_id)) == []
    assert (await console.line("/character delete Nora")).strip() == "deleted Nora"
    assert not Path(nora.image_path).exists()
    assert not any((console.app.settings.data_dir / "characters").iterdir())
