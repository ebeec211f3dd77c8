"""The README's promises that code can check: the quick start, and the model table."""

from __future__ import annotations

import re
from pathlib import Path

from bot.cli import SUBCOMMANDS
from core.catalog import MODELS

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


def test_quick_start_is_exactly_two_commands_and_both_exist() -> None:
    block = README.split("## Quick start", 1)[1].split("```sh", 1)[1].split("```", 1)[0]
    commands = [line.split("#")[0].strip() for line in block.strip().splitlines()]
    assert commands == ["uv run castbot console --demo", "uv run pytest"]
    assert "console" in {name for name, *_ in SUBCOMMANDS}


def test_model_table_lists_every_catalog_entry_with_its_slug() -> None:
    for model in MODELS.values():
        row = re.search(rf"^\| `{model.key}` \|.*$", README, re.M)
        assert row, f"README has no row for {model.key}"
        assert model.slug in row[0] and model.transport.value.split("_")[0] in row[0].replace("v2 queue", "v2")
