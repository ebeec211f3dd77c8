"""The one text grammar: every command form and every error, as data."""

from __future__ import annotations

import pytest

from core.commands import types as c
from core.commands.parser import ImageWords, parse, parse_command
from core.errors import (
    BadOptionValue,
    InvalidParameter,
    OptionNeedsValue,
    OptionOutOfRange,
    UnclosedQuote,
    UnknownCommand,
    UnknownOption,
    Usage,
    word,
)
from core.phrasing import Phrasing
from core.types import ImageRole

PATTERN = r"\bba(n|m)\d+ 'x'"  # backslashes and quotes a shell split would eat
CONSOLE = ImageWords(flags={"image": None, "pose-image": ImageRole.POSE, "scene-image": ImageRole.SCENE},
                     save_path=True)


@pytest.mark.parametrize(
    ("line", "command"),
    [
        ("/imagine on a beach", c.Generate("imagine", prompt="on a beach")),
        ('/imagine --char Luna on a beach --n 4 --neg "blurry, dark" --model Illustration',
         c.Generate("imagine", model="illustration", prompt="on a beach", negative="blurry, dark", character="Luna",
                    options={"n": "4"})),
        ("/pose --character Luna --seed=12 dancing", c.Generate("pose", prompt="dancing", character="Luna",
                                                                 options={"seed": "12"})),
        ("/scene", c.Generate("scene")),
        ("/sheet “a knight in armour”", c.Generate("sheet", prompt="a knight in armour")),
        ("/character save Luna silver hair --consent", c.CharacterSave("Luna", "silver hair", consent=True)),
        ("/character save Luna yes please", c.CharacterSave("Luna", "yes please", consent=False)),
        ("/character save Luna --job abc123 --index 2", c.SaveFromJob("abc123", "Luna", 1)),
        ("/character", c.CharacterList()),
        ("/character list", c.CharacterList()),
        ("/character list Lu --page 3", c.CharacterList("Lu", 3)),
        ("/character show Luna", c.CharacterShow("Luna")),
        ('/character rename Luna "Luna Two"', c.CharacterRename("Luna", "Luna Two")),
        ("/character delete Luna", c.CharacterDelete("Luna")),
        ("/quota", c.Quota()),
        ("/history", c.History(1)),
        ("/history 2", c.History(2)),
        ("/cancel", c.Cancel(None)),
        ("/cancel j-42", c.Cancel("j-42")),
        ("/help", c.Help(None)),
        ("/help /Pose", c.Help("pose")),
        ("/start", c.Start()),
        ("/admin quota --daily 5", c.AdminQuota(daily=5)),
        ("/admin quota --pool none --window rolling --timezone Europe/Paris --unlimited-admins yes --characters 9",
         c.AdminQuota(clear_pool=True, window="rolling", timezone="Europe/Paris", unlimited_admins=True,
                      characters=9)),
        ("/admin quota --pool 100", c.AdminQuota(pool=100)),
        ("/admin quota --user @bob", c.AdminQuota(user=c.UserRef(None, "@bob"))),
        ("/admin ban 12345", c.AdminBan(c.UserRef("12345", "12345"))),
        ("/admin ban @bob", c.AdminBan(c.UserRef(None, "@bob"))),
        ("/admin ban", c.AdminBan(c.UserRef())),
        ("/admin unban 7", c.AdminUnban(c.UserRef("7", "7"))),
        ("/admin stats", c.AdminStats()),
        ("/admin filter add banana split", c.AdminFilter("add", "banana split")),
        ("/admin filter remove banana", c.AdminFilter("remove", "banana")),
        # a pattern is taken as typed: backslashes and inner quotes are the pattern's own, one outer pair is not
        (f'/admin filter add --pattern "{PATTERN}"', c.AdminFilter("add", PATTERN, pattern=True)),
        (r"/admin filter remove --pattern=(a+)+$", c.AdminFilter("remove", "(a+)+$", pattern=True)),
        ("/admin filter list", c.AdminFilter("list")),
        ("/admin filter list 3", c.AdminFilter("list", page=3)),
        ("/admin filter list --page 2", c.AdminFilter("list", page=2)),
    ],
)
def test_every_command_form(line, command):
    assert parse(line).command == command


def test_admin_quota_daily_sets_the_daily_allowance_field():
    command = parse("/admin quota --daily 5").command
    assert isinstance(command, c.AdminQuota)
    assert command.policy_changes() == {"daily_units": 5}
    assert parse("/admin quota --pool off").command.policy_changes() == {"pool_units": None}


def test_addressee_and_non_commands():
    assert parse_command("/imagine@castbot hi") == parse_command("/imagine@castbot hi")
    assert parse_command("/imagine@castbot hi").addressee == "castbot"
    assert parse_command("hello") is None
    with pytest.raises(InvalidParameter, match="Commands start with /"):
        parse("hello")


def test_console_image_words_become_sources_not_options():
    parsed = parse("/pose --char Luna --image a.png --pose-image 'b c.png' dancing", CONSOLE)
    assert parsed.command == c.Generate("pose", prompt="dancing", character="Luna")
    assert parsed.images == ((None, "a.png"), (ImageRole.POSE, "b c.png"))
    saved = parse('/character save Luna "my photo.png" --consent silver hair', CONSOLE)
    assert saved.command == c.CharacterSave("Luna", "silver hair", consent=True)
    assert saved.images == ((None, "my photo.png"),)
    # On Telegram there are no image words: --image is an option the model will refuse in precheck.
    assert parse("/imagine --image a.png").command.options == {"image": "a.png"}


@pytest.mark.parametrize(
    ("line", "error", "fields"),
    [
        ('/imagine "unclosed', UnclosedQuote, {}),
        ("/imagine at sea --n", OptionNeedsValue, {"option": "n"}),
        ("/wat", UnknownCommand, {"command": "wat"}),
        ("/character frobnicate", Usage, {"command": "character"}),
        ("/character show", Usage, {"command": "character"}),
        ("/character rename Luna", Usage, {"command": "character"}),
        ("/admin", Usage, {"command": "admin"}),
        ("/admin quota", Usage, {"command": "admin"}),
        ("/admin quota --daily lots", BadOptionValue, {"option": "daily", "value": "lots"}),
        ("/admin quota --daily 5000000", OptionOutOfRange, {"option": "daily", "maximum": 1_000_000}),
        ("/admin quota --daily-units 5", UnknownOption, {"option": "daily-units", "command": "admin quota"}),
        ("/admin quota --unlimited-admins maybe", BadOptionValue, {"option": "unlimited-admins"}),
        ("/admin filter", Usage, {"command": "admin"}),
        ("/admin filter add", Usage, {"command": "admin"}),
        ("/admin filter add --page 2 banana", Usage, {"command": "admin"}),
        ("/admin filter list many", BadOptionValue, {"option": "page"}),
        ("/history many", BadOptionValue, {"option": "page", "value": "many"}),
        ("/history 0", OptionOutOfRange, {"option": "page", "minimum": 1}),
        ("/character list --page x", BadOptionValue, {"option": "page"}),
        ("/character save Luna --job j1 --index 0", OptionOutOfRange, {"option": "index"}),
    ],
)
def test_every_error_carries_its_data(line, error, fields):
    with pytest.raises(error) as caught:
        parse(line)
    for name, value in fields.items():
        assert getattr(caught.value, name) == value
    assert str(caught.value)  # and says something in the text grammar's words


def test_error_wording_in_the_text_grammar():
    with pytest.raises(UnknownOption) as caught:
        parse("/admin quota --daily-units 5")
    assert str(caught.value).startswith("/admin quota has no option --daily-units. Its options: --daily, --pool")
    with pytest.raises(UnclosedQuote) as unclosed:
        parse('/imagine "x')
    assert str(unclosed.value) == 'A quote is not closed: put text with spaces inside "double quotes".'


def test_usage_errors_say_how_the_platform_attaches_a_photo():
    with pytest.raises(Usage) as caught:
        parse("/character frobnicate")
    console = Phrasing("console", attach={"character": "give its file with --image PATH"})
    assert "--consent — give its file with --image PATH" in word(caught.value, console)
    assert "{attach}" not in str(caught.value)


def test_typed_filter_options_take_one_of_word_and_pattern():
    assert c.AdminFilter.from_options("add", word="kiwi") == c.AdminFilter("add", "kiwi")
    assert c.AdminFilter.from_options("remove", pattern="k(i|y)wi") == c.AdminFilter("remove", "k(i|y)wi", True)
    assert c.AdminFilter.from_options("list", page=2) == c.AdminFilter("list", page=2)
    for action, options in (("add", {}), ("add", {"word": "a", "pattern": "b"}), ("purge", {"word": "a"})):
        with pytest.raises(Usage):
            c.AdminFilter.from_options(action, **options)
