"""CharacterBook on a real SQLite file and a real data directory."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from core.characters import CharacterBook, clean_name, with_description
from core.errors import Conflict, ImageRejected, NotFoundError, UserError
from core.images import normalize_image
from core.store.sqlite import SqliteStore
from tests.fakes import hostile_images as hostile
from tests.fakes.clock import FakeClock

PHOTO = hostile.photo_jpeg(64, 48)
OTHER_PHOTO = hostile.transparent_png()


@pytest.fixture
def book(store: SqliteStore, tmp_path: Path, clock: FakeClock) -> CharacterBook:
    return CharacterBook(store, tmp_path / "data", clock=clock)


def _exists(path: Path) -> bool:
    return path.exists()


def _unlink(path: Path) -> None:
    path.unlink()


async def save(book: CharacterBook, name: str, *, scope: str = "g1", owner: str = "u1",
               image: bytes = PHOTO, **extra) -> object:
    return await book.save(platform="discord", scope_id=scope, owner_id=owner, name=name, image=image,
                           consent=extra.pop("consent", True), **extra)


async def test_save_and_get(book: CharacterBook, tmp_path: Path, clock: FakeClock) -> None:
    saved = await save(book, "Captain Mira", description="red scarf, green eyes")
    got = await book.get(scope_id="g1", name="captain   MIRA")
    assert got == saved
    assert (got.name, got.description, got.owner_id, got.created_at) == (
        "Captain Mira", "red scarf, green eyes", "u1", clock.now())
    expected = normalize_image(PHOTO)
    assert got.image_path == str(tmp_path / "data" / "characters" / f"{expected.sha256}.jpg")
    assert await book.image_bytes(got) == expected.data


async def test_consent_is_required(book: CharacterBook) -> None:
    with pytest.raises(UserError, match="confirm you have the right to use that person's face"):
        await save(book, "Mira", consent=False)
    assert await book.list(scope_id="g1") == []


@pytest.mark.parametrize("bad", ["", "   ", "x" * 33, "Mira!", "a/b", "<@everyone>", "emoji😀"])
def test_bad_names_are_refused(bad: str) -> None:
    with pytest.raises(UserError, match="Character names are 1–32 characters"):
        clean_name(bad)


def test_names_are_tidied() -> None:
    assert clean_name("  Sir   Lancelot_2-b ") == "Sir Lancelot_2-b"
    assert clean_name("Zoë") == "Zoë"


async def test_names_are_unique_per_scope_case_insensitively(book: CharacterBook) -> None:
    await save(book, "Mira")
    with pytest.raises(Conflict, match="A character named 'Mira' already exists here"):
        await save(book, "MIRA", owner="u2", image=OTHER_PHOTO)
    await save(book, "mira", scope="g2")  # another community may use the name


async def test_scopes_do_not_see_each_other(book: CharacterBook) -> None:
    await save(book, "Mira", scope="g1")
    with pytest.raises(NotFoundError):
        await book.get(scope_id="g2", name="Mira")
    assert await book.list(scope_id="g2") == []


async def test_not_found_suggests_close_names(book: CharacterBook) -> None:
    await save(book, "Mirabel")
    await save(book, "Knight", image=OTHER_PHOTO)
    with pytest.raises(NotFoundError, match=r"No character named 'Mirabelle' here\. Did you mean: Mirabel\?"):
        await book.get(scope_id="g1", name="Mirabelle")
    with pytest.raises(NotFoundError, match="/character list"):
        await book.get(scope_id="g1", name="Zzzz")


async def test_list_with_prefix_and_limit(book: CharacterBook) -> None:
    for name in ["beta", "Alpha", "alpine", "Gamma"]:
        await save(book, name)
    assert [c.name for c in await book.list(scope_id="g1")] == ["Alpha", "alpine", "beta", "Gamma"]
    assert [c.name for c in await book.list(scope_id="g1", prefix="AL")] == ["Alpha", "alpine"]
    assert [c.name for c in await book.list(scope_id="g1", prefix="%")] == []  # no LIKE wildcards
    assert len(await book.list(scope_id="g1", limit=2)) == 2
    assert [c.name for c in await book.list(scope_id="g1", offset=2, limit=5)] == ["beta", "Gamma"]
    assert await book.count(scope_id="g1") == 4


async def test_per_scope_limit(book: CharacterBook, store: SqliteStore) -> None:
    await store.set_policy("g1", character_limit=2)
    await save(book, "One")
    await save(book, "Two")
    with pytest.raises(Conflict, match="already has 2 saved characters \\(the limit is 2\\)"):
        await save(book, "Three")
    await save(book, "Three", scope="g2")


async def test_same_image_is_stored_once_and_removed_with_its_last_user(book: CharacterBook) -> None:
    first = await save(book, "Mira")
    second = await save(book, "Mira Twin", owner="u2")
    assert first.image_path == second.image_path
    path = Path(first.image_path)
    assert len(list(path.parent.iterdir())) == 1
    await book.delete(scope_id="g1", name="Mira")
    assert _exists(path)
    await book.delete(scope_id="g1", name="Mira Twin")
    assert not _exists(path)


async def test_rename_finds_the_name_in_any_case(book: CharacterBook) -> None:
    # who may rename is tests/test_permissions.py's subject (CastService decides, the book stores)
    await save(book, "Mira", owner="u1")
    renamed = await book.rename(scope_id="g1", name="mira", new_name="Mira Prime")
    assert renamed == await book.get(scope_id="g1", name="Mira Prime")
    with pytest.raises(NotFoundError):
        await book.get(scope_id="g1", name="Mira")


async def test_rename_refuses_taken_names_but_allows_recasing(book: CharacterBook) -> None:
    await save(book, "Mira")
    await save(book, "Knight", image=OTHER_PHOTO)
    with pytest.raises(Conflict):
        await book.rename(scope_id="g1", name="Knight", new_name="MIRA")
    recased = await book.rename(scope_id="g1", name="mira", new_name="MIRA")
    assert recased.name == "MIRA"


async def test_hostile_image_saves_nothing(book: CharacterBook, tmp_path: Path) -> None:
    with pytest.raises(ImageRejected):
        await save(book, "Bomb", image=hostile.decompression_bomb_png())
    assert await book.list(scope_id="g1") == []
    assert not (tmp_path / "data" / "characters").exists()


async def test_refused_save_leaves_no_orphan_file(book: CharacterBook, tmp_path: Path) -> None:
    await save(book, "Mira")
    with pytest.raises(Conflict):
        await save(book, "Mira", image=OTHER_PHOTO)  # new file written, then the row refused
    assert len(list((tmp_path / "data" / "characters").iterdir())) == 1


async def test_concurrent_saves_of_one_name_give_one_character(book: CharacterBook) -> None:
    results = await asyncio.gather(*(save(book, "Mira", owner=f"u{i}") for i in range(10)),
                                   return_exceptions=True)
    assert sum(not isinstance(r, BaseException) for r in results) == 1
    assert all(isinstance(r, Conflict) for r in results if isinstance(r, BaseException))
    assert await book.count(scope_id="g1") == 1


async def test_upload_url_cache_expires(book: CharacterBook, clock: FakeClock) -> None:
    character = await save(book, "Mira")
    assert await book.cached_upload(character.character_id, max_age=3600) is None
    await book.remember_upload(character.character_id, "https://segmind.example/u/1.jpg")
    await clock.advance(3000)
    assert await book.cached_upload(character.character_id, max_age=3600) == "https://segmind.example/u/1.jpg"
    await clock.advance(601)
    assert await book.cached_upload(character.character_id, max_age=3600) is None


async def test_missing_file_is_a_clear_error(book: CharacterBook) -> None:
    character = await save(book, "Mira")
    _unlink(Path(character.image_path))
    with pytest.raises(NotFoundError, match="image of 'Mira' is missing"):
        await book.image_bytes(character)


async def test_description_is_appended_to_prompts(book: CharacterBook) -> None:
    character = await save(book, "Mira", description="red scarf, green eyes")
    assert with_description("walking in the rain.", character) == "walking in the rain. red scarf, green eyes"
    assert with_description("", character) == "red scarf, green eyes"
    plain = await save(book, "Plain", image=OTHER_PHOTO)
    assert with_description("a portrait", plain) == "a portrait"


# --- look-alike names (issue 14) ---------------------------------------------------------------

@pytest.mark.parametrize("second", ["ＬＵＮＡ", "Lun\u0430", "Luná", "Luna\u0301", " Luna ", "luna", "LUNA"])
async def test_a_look_alike_of_an_existing_name_is_refused_naming_it(book: CharacterBook, second: str) -> None:
    await save(book, "Luna")
    with pytest.raises(Conflict, match="A character named 'Luna' already exists here"):
        await save(book, second, owner="u2")
    assert [c.name for c in await book.list(scope_id="g1")] == ["Luna"]


async def test_precomposed_and_combining_accents_are_one_name(book: CharacterBook) -> None:
    saved = await save(book, "Luna\u0301")
    assert saved.name == "Luná"  # stored composed (NFC), as it shows
    with pytest.raises(Conflict, match="'Luná' already exists"):
        await save(book, "Luná", owner="u2")


@pytest.mark.parametrize(("first", "second"), [
    ("Ivy", "lvy"), ("Mira", "M\u0456ra"), ("Kim", "Kirn"), ("Bond 007", "Bond OO7"), ("Luna-Rose", "Luna Rose"),
    ("Hera", "\u0397era"),
])
async def test_classic_confusables_collide(book: CharacterBook, first: str, second: str) -> None:
    await save(book, first)
    with pytest.raises(Conflict, match=f"'{first}' already exists here, and '{second}' looks the same"):
        await save(book, second, owner="u2")


async def test_different_names_and_other_communities_are_free(book: CharacterBook) -> None:
    await save(book, "Luna")
    await save(book, "Lina", owner="u2")
    await save(book, "ＬＵＮＡ", scope="g2")  # another community
    assert [c.name for c in await book.list(scope_id="g1")] == ["Lina", "Luna"]


async def test_a_look_alike_rename_is_refused(book: CharacterBook) -> None:
    await save(book, "Luna")
    await save(book, "Mira", owner="u2")
    with pytest.raises(Conflict, match="'Luna' already exists"):
        await book.rename(scope_id="g1", name="Mira", new_name="Lun\u0430")
    renamed = await book.rename(scope_id="g1", name="Luna", new_name="ＬＵＮＡ")  # its own name: allowed
    assert renamed.name == "ＬＵＮＡ"


async def test_a_name_typed_with_a_look_alike_letter_finds_the_character(book: CharacterBook) -> None:
    await save(book, "Luna")
    assert (await book.get(scope_id="g1", name="ＬＵＮＡ")).name == "Luna"
    assert (await book.get(scope_id="g1", name="Lun\u0430")).name == "Luna"
