"""core.pricing: units follow what drives Segmind's compute, defaults cost what they always did.

`uv run pytest tests/test_pricing.py -s -k table` prints each model's price at defaults and at maximum.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydantic import ValidationError

from bot.settings import Settings
from core.catalog import MODELS, build_payload, get_model
from core.commands.help import help_answer, help_lines
from core.phrasing import TEXT, Phrasing
from core.pricing import PASSES, Pricing, default_payload, job_units, maximum_payload, parse_weights

# model -> (units at defaults, units at maximum settings). Defaults are the catalog's weight per image (what
# every job cost before compute pricing); the maximum is dearer wherever a page shows a setting that adds work.
EXPECTED = {"poses": (1, 80), "illustration": (1, 28), "scene": (2, 2), "sheet": (2, 8), "pose": (1, 16)}
FIXED_PRICE = {"scene"}  # 002 states a flat ~$0.1224 a run and has nothing to set
DISCORD = Phrasing("discord", option_format="`{name}`", option_names={"n": "count"},
                   offered=frozenset({"n", "seed", "neg"}))


def price(key: str, payload: dict) -> int:
    model = get_model(key)
    return job_units(model, payload, weight=model.weight)


def test_price_table_defaults_and_maximum() -> None:
    print("\nmodel         defaults  maximum  (units; maximum = every user setting at its top)")
    table = {}
    for key, model in MODELS.items():
        table[key] = (price(key, default_payload(model)), price(key, maximum_payload(model)))
        print(f"{key:<13} {table[key][0]:>8}  {table[key][1]:>7}")
    assert table == EXPECTED
    for key, model in MODELS.items():
        assert table[key][0] == model.weight * model.output_count(default_payload(model))  # as before
        assert (table[key][1] > table[key][0]) == (key not in FIXED_PRICE), key


def test_the_issues_examples_cost_more_than_defaults() -> None:
    # 70 steps at 2048x2048: 7x the steps, 4x the pixels of the 10-step 1024x1024 default.
    big = build_payload(get_model("illustration"), prompt="x", flags={"steps": 70, "width": 2048, "height": 2048})
    assert price("illustration", big) == 28
    # A 4x upscaled sheet: the upscale pass covers 16x the pixels instead of 4x: (20 + 320 + 20) / 120 x 2.
    sheet = build_payload(get_model("sheet"), prompt="x", flags={"upscale": 4})
    assert price("sheet", sheet) == 6
    assert price("poses", build_payload(get_model("poses"), flags={"n": 4})) == 4  # images, as before


def test_units_round_up_and_a_real_job_never_costs_nothing() -> None:
    illustration = get_model("illustration")
    assert price("illustration", build_payload(illustration, prompt="x", flags={"steps": 11})) == 2  # 1.1 -> 2
    smallest = build_payload(illustration, prompt="x", flags={"steps": 1, "width": 512, "height": 512})
    assert price("illustration", smallest) == 1
    tiny = build_payload(get_model("pose"), prompt="x", flags={"width": 64, "height": 64, "input-size": "no"})
    assert price("pose", tiny) == 1
    cheap_sheet = build_payload(get_model("sheet"), prompt="x", flags={"steps": 1, "upscale": 1})
    assert price("sheet", cheap_sheet) == 1


def test_pose_size_counts_only_when_the_input_size_is_not_used() -> None:
    pose = get_model("pose")
    assert price("pose", build_payload(pose, prompt="x", flags={"width": 4096, "height": 4096})) == 1
    assert price("pose", build_payload(pose, prompt="x", flags={"width": 4096, "height": 4096,
                                                                  "input-size": "no"})) == 16


def test_every_priced_parameter_is_a_numeric_catalog_parameter() -> None:
    assert set(PASSES) == set(MODELS)
    for key, passes in PASSES.items():
        model = MODELS[key]
        for p in passes:
            for name in p.drivers():
                param = model.param(name)  # KeyError: a renamed parameter would silently stop being priced
                assert param.type is int and param.maximum is not None, (key, name)
            if p.unless:
                assert model.param(p.unless).type is bool


def test_operator_price_is_a_floor_a_community_can_only_raise() -> None:
    sheet = get_model("sheet")
    defaults = default_payload(sheet)
    operator = Pricing({"sheet": 3})
    assert operator.units(sheet, defaults) == 3
    assert operator.units(sheet, defaults, {"sheet": 1}) == 3  # a community cannot make the operator's job cheaper
    assert operator.units(sheet, defaults, {"sheet": 5}) == 5
    assert operator.units(sheet, build_payload(sheet, prompt="x", flags={"upscale": 4}), {"sheet": 5}) == 15
    assert Pricing().units(sheet, defaults) == 2  # no override: the catalog's weight
    assert Pricing().weights_for({"poses": 0}) == {key: m.weight for key, m in MODELS.items()}


@pytest.mark.parametrize(("text", "weights"), [
    ("", {}), ("poses=2, Sheet=3", {"poses": 2, "sheet": 3}), ('{"scene": 4}', {"scene": 4}),
])
def test_operator_weights_parse(text: str, weights: dict[str, int]) -> None:
    assert parse_weights(text) == weights


@pytest.mark.parametrize(("text", "says"), [
    ("potato=2", "unknown model 'potato'"), ("poses=0", "from 1 to"), ("poses=two", "from 1 to"),
    ("poses", "from 1 to"), ('{"poses": true}', "from 1 to"), ("[1]", "must map"), ("{bad", "Expecting"),
])
def test_bad_operator_weights_are_refused_with_the_entry_named(text: str, says: str) -> None:
    with pytest.raises(ValueError, match=says):
        parse_weights(text)


def test_settings_refuse_a_bad_model_units_at_start() -> None:
    with pytest.raises(ValidationError, match="unknown model 'sheeet'"):
        Settings(_env_file=None, CASTBOT_MODEL_UNITS="sheeet=3")  # type: ignore[call-arg]
    settings = Settings(_env_file=None, CASTBOT_MODEL_UNITS="sheet=3")  # type: ignore[call-arg]
    assert settings.pricing.units(get_model("sheet"), default_payload(get_model("sheet"))) == 3


def test_help_states_the_price_before_submit() -> None:
    sheet = "\n".join(help_lines(help_answer("sheet", TEXT)))
    assert "Cost: 2 units at defaults, up to 8 with more --steps or a bigger --upscale." in sheet
    imagine = "\n".join(help_lines(help_answer("imagine", TEXT)))
    assert "Cost: 1 unit at defaults, up to 80 with more images (--n, --per-pose)." in imagine
    assert "Cost: 1 unit at defaults, up to 28 with more --steps or a larger --width x --height." in imagine
    pose = "\n".join(help_lines(help_answer("pose", TEXT)))
    assert "up to 16 with a larger --width x --height and --input-size no." in pose
    assert "Cost: 2 units at defaults, whatever the settings." in "\n".join(help_lines(help_answer("scene", TEXT)))
    # Only what the platform offers raises the price there; the operator's (or community's) weight is shown.
    discord = help_answer("imagine", DISCORD, weights={"poses": 3, "illustration": 2})
    assert [m.price for m in discord.models] == ["3 units at defaults, up to 60 with more images (`count`)",
                                                 "2 units at defaults, whatever the settings"]


def test_the_operators_guide_shows_the_same_table() -> None:
    guide = (Path(__file__).resolve().parents[1] / "docs" / "operators.md").read_text()
    rows = re.findall(r"^\| `(\w+)` \| (\d+) \| (\d+)", guide, re.M)
    assert {key: (int(low), int(high)) for key, low, high in rows} == EXPECTED


@pytest.mark.parametrize("key", list(MODELS))
def test_raising_any_setting_never_lowers_the_price(key: str) -> None:
    model = get_model(key)
    for param in model.params:
        if param.type is not int or param.minimum is None or param.maximum is None or not param.flag:
            continue
        values = sorted({int(param.minimum), int(param.default), int(param.maximum)})
        for size_from_input in ("yes", "no") if key == "pose" else ("",):
            flags = {"input-size": size_from_input} if size_from_input else {}
            prices = [price(key, build_payload(model, prompt="x", flags={**flags, param.flag: v})) for v in values]
            assert prices == sorted(prices), (key, param.name, prices)
    assert price(key, {}) == model.weight  # a payload missing every setting is priced at the defaults
