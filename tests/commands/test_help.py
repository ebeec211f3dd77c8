"""Help from the catalog: defaults in the user's words, castbot's random seed, each platform's way to attach."""

from __future__ import annotations

import pytest

from core.catalog import MODELS
from core.commands.help import command_list, default_words, help_answer, help_lines, option_descriptions
from core.commands.table import COMMANDS
from core.errors import UnknownCommand
from core.phrasing import TEXT, Phrasing

CONSOLE = Phrasing("console", attach={"character": "give its file with --image PATH",
                                      "pose": "give the pose image with --pose-image PATH",
                                      "scene": "give the scene image with --scene-image PATH"})
DISCORD = Phrasing("discord", option_format="`{name}`", option_names={"n": "count", "neg": "negative",
                                                                     "char": "character"},
                   offered=frozenset({"n", "seed", "neg"}), value_format="{name}:{value}",
                   attach={"character": "the image option", "pose": "the pose_image option"},
                   saved_character="the character option")
PAGE_SEEDS = {str(p.default) for m in MODELS.values() for p in m.params if p.name == "seed"}


def all_help(ph: Phrasing) -> list[str]:
    return [line for topic in [None, *COMMANDS] for line in help_lines(help_answer(topic, ph))]


@pytest.mark.parametrize("ph", [TEXT, CONSOLE, DISCORD])
def test_no_python_words_and_no_example_seed(ph):
    text = "\n".join(all_help(ph))
    assert "True" not in text and "False" not in text and "None" not in text
    assert not any(seed in text for seed in PAGE_SEEDS)


def test_booleans_and_seeds_in_the_users_words():
    pose = "\n".join(help_lines(help_answer("pose", CONSOLE)))
    assert "--input-size  yes or no, default yes" in pose
    assert "--seed  same seed, same picture: 0 to 9999999999, default random" in pose
    assert default_words(MODELS["sheet"], MODELS["sheet"].param("negative_prompt")) == "a built-in list"


def test_help_pose_says_where_the_pose_image_goes_on_each_platform():
    console = help_lines(help_answer("pose", CONSOLE))
    assert "  pose image (required): give the pose image with --pose-image PATH" in console
    assert any("--image PATH, or --char NAME" in line for line in console)
    discord = "\n".join(help_lines(help_answer("pose", DISCORD)))
    assert "pose image (required): the pose_image option" in discord
    assert "the image option, or the character option" in discord
    assert "`quality`" not in discord and "`seed`" in discord  # only what Discord offers


def test_discord_options_and_summaries_speak_discord():
    imagine = help_answer("imagine", DISCORD)
    assert imagine.usage[0].startswith("/imagine [prompt] [character:NAME] [model:poses|illustration]")
    assert {c.name: c.summary for c in command_list(DISCORD)}["imagine"].endswith("(model:illustration for drawings)")
    descriptions = option_descriptions("imagine", DISCORD)
    assert descriptions["count"] == "how many images: 1 to 20, default 1"
    assert descriptions["seed"].endswith("default random")
    assert all(len(text) <= 100 for text in descriptions.values())


def test_command_list_feeds_every_command_and_unknown_topics_are_refused():
    assert [c.name for c in command_list()] == list(COMMANDS)
    with pytest.raises(UnknownCommand):
        help_answer("frobnicate")
    start = help_answer(None, start=True)
    assert start.intro and "--consent" in start.intro[1]
