"""What is checked before any download: errors carry model, option, role, limit and value; one wording per platform."""

from __future__ import annotations

import random

import pytest

from core.commands.precheck import prepare
from core.commands.types import Generate, ImageSource
from core.errors import (
    BadChoice,
    BadOptionValue,
    ModelNotAllowed,
    OptionOutOfRange,
    PromptRequired,
    UnknownOption,
    word,
)
from core.image_errors import ImageConflict, ImageTooBig, MissingImage, UnexpectedImage
from core.images import MAX_INPUT_BYTES
from core.phrasing import Phrasing
from core.types import CharacterView, ImageRole

LUNA = CharacterView("c1", "Luna", "silver hair", "u1", "s1", "/data/characters/luna.png")
CONSOLE = Phrasing("console", attach={"character": "give its file with --image PATH",
                                      "pose": "give the pose image with --pose-image PATH"})
DISCORD = Phrasing("discord", option_format="`{name}`", option_names={"n": "count", "char": "character"},
                   offered=frozenset({"n", "seed", "neg"}), attach={"pose": "the pose_image option"},
                   saved_character="the character option")


def photo(role: ImageRole | None = None, *, size: int | None = 1000, name: str = "p.png") -> ImageSource:
    return ImageSource(handle=name, role=role, filename=name, size=size)


def check(command: Generate, *sources: ImageSource, character: CharacterView | None = None):
    return prepare(command, sources, character=character, rng=random.Random(7))


@pytest.mark.parametrize(
    ("command", "error", "fields"),
    [
        (Generate("imagine", options={"bogus": "1"}), UnknownOption, {"model": "poses", "option": "bogus"}),
        (Generate("imagine", options={"n": "99"}), OptionOutOfRange,
         {"model": "poses", "option": "n", "minimum": 1, "maximum": 20, "value": 99, "param": "number_of_outputs"}),
        (Generate("imagine", options={"n": "two"}), BadOptionValue,
         {"model": "poses", "option": "n", "kind": "a whole number", "value": "two"}),
        (Generate("imagine", options={"format": "gif"}), BadChoice, {"option": "format", "value": "gif"}),
        (Generate("imagine", model="scene"), ModelNotAllowed, {"command": "imagine", "model": "scene"}),
        (Generate("sheet"), PromptRequired, {"model": "sheet"}),
    ],
)
def test_option_errors_carry_data(command, error, fields):
    with pytest.raises(error) as caught:
        check(command, photo())
    for name, value in fields.items():
        assert getattr(caught.value, name) == value


def test_each_platform_words_the_same_error_its_own_way():
    with pytest.raises(OptionOutOfRange) as caught:
        check(Generate("imagine", options={"n": "50"}), photo())
    assert word(caught.value) == "--n must be from 1 to 20; got 50."
    assert word(caught.value, DISCORD) == "`count` must be from 1 to 20; got 50."
    with pytest.raises(UnknownOption) as unknown:
        check(Generate("imagine", options={"bogus": "1"}), photo())
    assert word(unknown.value, DISCORD).endswith("Its options: `neg`, `count`, `seed`.")


def test_missing_images_name_the_role_and_the_platform_way_to_attach():
    with pytest.raises(MissingImage) as caught:
        check(Generate("pose", prompt="dancing"), photo())
    assert (caught.value.role, caught.value.model) == ("pose", "pose")
    assert word(caught.value, CONSOLE) == "/pose also needs a pose image: give the pose image with --pose-image PATH."
    with pytest.raises(MissingImage) as nothing:
        check(Generate("imagine", prompt="x"))
    assert nothing.value.role == "character" and nothing.value.saved_allowed
    assert "--image PATH" in word(nothing.value, CONSOLE) and "--char NAME" in word(nothing.value, CONSOLE)


def test_a_saved_character_plus_one_positional_image_makes_that_image_the_pose():
    prepared = check(Generate("pose", prompt="dancing", character="Luna"), photo(), character=LUNA)
    assert [role for role, _ in prepared.images] == [ImageRole.POSE]
    assert prepared.payload["prompt"] == "dancing. silver hair"


def test_a_character_photo_next_to_a_saved_character_points_at_the_pose_slot():
    with pytest.raises(ImageConflict) as caught:
        check(Generate("pose", prompt="x", character="Luna"), photo(ImageRole.CHARACTER), character=LUNA)
    assert caught.value.other_roles == ("pose",)
    assert "--pose-image PATH" in word(caught.value, CONSOLE)
    with pytest.raises(ImageConflict):
        check(Generate("imagine", character="Luna"), photo(), character=LUNA)


def test_images_beyond_the_slots_and_roles_a_model_lacks_are_refused():
    with pytest.raises(UnexpectedImage) as extra:
        check(Generate("imagine"), photo(), photo())
    assert extra.value.role is None and extra.value.roles == ("character",)
    with pytest.raises(UnexpectedImage) as wrong:
        check(Generate("imagine"), photo(), photo(ImageRole.SCENE))
    assert wrong.value.role == "scene"


def test_positional_images_fill_slots_in_order_and_explicit_roles_win():
    prepared = check(Generate("scene"), photo(ImageRole.SCENE, name="s.png"), photo(name="c.png"))
    assert [(role, src.filename) for role, src in prepared.images] == [(ImageRole.CHARACTER, "c.png"),
                                                                       (ImageRole.SCENE, "s.png")]
    optional = check(Generate("imagine", model="illustration", prompt="x"), photo(name="c.png"), photo(name="p.png"))
    assert [role for role, _ in optional.images] == [ImageRole.CHARACTER, ImageRole.POSE]


def test_an_oversized_image_is_refused_from_its_declared_size():
    with pytest.raises(ImageTooBig) as caught:
        check(Generate("imagine"), photo(size=MAX_INPUT_BYTES + 1, name="huge.png"))
    assert (caught.value.filename, caught.value.limit) == ("huge.png", MAX_INPUT_BYTES)


def test_the_payload_is_built_once_with_its_seed_drawn():
    prepared = check(Generate("imagine", prompt="x", options={"n": "3"}), photo())
    assert prepared.payload["number_of_outputs"] == 3
    assert isinstance(prepared.payload["seed"], int) and prepared.payload["seed"] != 42
    fixed = check(Generate("imagine", prompt="x", options={"seed": "5"}), photo())
    assert fixed.payload["seed"] == 5


def test_options_a_typed_platform_left_empty_are_not_options():
    prepared = check(Generate("imagine", prompt="x", options={"n": None, "seed": 9}), photo())  # type: ignore[dict-item]
    assert prepared.payload["number_of_outputs"] == 1 and prepared.payload["seed"] == 9
