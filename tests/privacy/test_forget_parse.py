"""/forget-me in the text grammar and the help: typed with "-" or "_", confirmed only by --confirm."""

from __future__ import annotations

import pytest

from core.commands import types as c
from core.commands.help import help_answer
from core.commands.parser import parse


@pytest.mark.parametrize(("text", "confirm"), [("/forget-me", False), ("/forget_me", False),
                                                ("/forget-me --confirm", True), ("/forget_me@castbot --confirm", True),
                                                ("/forget-me yes please", False)])
def test_forget_me_parses_and_only_the_flag_confirms(text: str, confirm: bool) -> None:
    assert parse(text).command == c.ForgetMe(confirm=confirm)


def test_help_knows_forget_me_either_way() -> None:
    assert help_answer("forget-me").usage == help_answer("forget_me").usage
    assert any("--confirm" in line for line in help_answer("forget_me").usage)
