"""Pure helpers of the Discord adapter: wording, hosts, rendering, command-set comparison."""

from __future__ import annotations

from adapters.discord.adapter import canonical
from adapters.discord.answers import answer_text, fit
from adapters.discord.attachments import CDN_HOSTS, allowed_hosts
from adapters.discord.context import PHRASING
from adapters.discord.render import progress_bar, status_text
from adapters.discord.views import parse_custom_id
from core.commands import answers as a
from core.errors import OptionOutOfRange, UnknownUser, word
from core.image_errors import MissingImage
from core.types import CharacterView, JobState, JobView


def test_core_errors_name_slash_options_through_the_phrasing() -> None:
    out_of_range = OptionOutOfRange(model="poses", option="n", minimum=1, maximum=20, value=50)
    assert word(out_of_range, PHRASING) == "`count` must be from 1 to 20; got 50."
    missing = word(MissingImage(command="pose", model="pose", role="pose", saved_allowed=False), PHRASING)
    assert "the `pose_image` option" in missing
    character = word(MissingImage(command="imagine", model="poses", role="character", saved_allowed=True), PHRASING)
    assert "the `image` option" in character and "the `character` option" in character
    assert "the `user` option" in word(UnknownUser(text=""), PHRASING)


def test_long_lists_drop_whole_lines_and_user_text_is_inert() -> None:
    lines = [f"**Name{i}** — a description that takes some room on the line" for i in range(100)]
    text = fit(lines, 500)
    assert len(text) <= 500 and text.endswith("\n…")
    assert all(line.count("**") == 2 for line in text.splitlines()[:-1])  # no bold left open
    evil = CharacterView("c1", "**Bold** @everyone", "`code` <@123>", "42", "222", "x.png")
    shown = answer_text(a.CharacterPage((evil,), "", 1, True))
    assert "\\*\\*Bold\\*\\* @everyone" in shown and "\\`code\\`" in shown
    assert shown.endswith("`/character list page:2`")


def test_downloads_allowed_from_discord_cdn_plus_an_overridden_api_host_only() -> None:
    assert allowed_hosts("https://discord.com/api/v10") == CDN_HOSTS
    assert allowed_hosts("http://127.0.0.1:5000/api/v10") == (*CDN_HOSTS, "127.0.0.1")


def test_status_text_is_stable_and_says_what_happens() -> None:
    running = JobView("j1", JobState.RUNNING, "poses", prompt="p", elapsed=65, eta=30, progress=0.5)
    assert status_text(running) == status_text(running)
    assert "1m05s elapsed" in status_text(running) and "30s left" in status_text(running)
    assert progress_bar(0.5).endswith(" 50%") and progress_bar(2.0).endswith(" 100%")
    queued = JobView("j1", JobState.ACCEPTED, "poses", position=3)
    assert "position 3" in status_text(queued)
    loud = JobView("j1", JobState.RUNNING, "poses", prompt="**big** @everyone")
    assert "\\*\\*big\\*\\* @everyone" in status_text(loud)  # shown as typed, never as markup
    failed = JobView("j1", JobState.FAILED, "poses", error="Segmind refused the prompt.")
    assert "nothing was charged" in status_text(failed) and "refused" in status_text(failed)


def test_custom_ids_round_trip_and_refuse_junk() -> None:
    assert parse_custom_id("cb:reroll:abc123") == ("reroll", "abc123")
    assert parse_custom_id("cb:explode:abc") is None
    assert parse_custom_id("cb:reroll:a/b") is None


def test_command_sets_compare_on_what_matters() -> None:
    ours = [{"name": "a", "description": "d", "type": 1, "default_member_permissions": 32, "nsfw": False,
             "options": [{"name": "x", "type": 4, "min_value": 1, "required": False}]}]
    theirs = [{"id": "9", "application_id": "1", "version": "5", "name": "a", "description": "d", "type": 1,
               "default_member_permissions": "32", "options": [{"name": "x", "type": 4, "min_value": 1}]}]
    assert canonical(ours) == canonical(theirs)
    theirs[0]["options"][0]["min_value"] = 2
    assert canonical(ours) != canonical(theirs)
