"""Help from the one catalog and command table, worded for a platform by its Phrasing.

`help_answer` is what /help and /start return (data); `help_lines` is its plain-text form, which the
console prints as is and the chat adapters escape. `command_list` feeds Telegram's setMyCommands and
Discord's command descriptions; `option_descriptions` feeds Discord's option descriptions.
"""

from __future__ import annotations

from collections.abc import Mapping

from core.catalog import MODELS, Model, Param
from core.commands.answers import CommandHelp, HelpAnswer, ModelHelp, OptionHelp
from core.commands.table import COMMANDS, GENERATION, START_INTRO, USAGE
from core.errors import UnknownCommand
from core.phrasing import TEXT, Phrasing
from core.pricing import PASSES, default_payload, job_units, maximum_payload

DESCRIPTION_MAX = 100  # Discord's limit for command and option descriptions; Telegram allows 256
LONG_DEFAULT = 40  # a text default longer than this is summarised, not printed


def command_list(ph: Phrasing = TEXT) -> list[CommandHelp]:
    """Every command with its one-line summary, in the table's order."""
    return [CommandHelp(name, _say_options(summary, ph)) for name, summary in COMMANDS.items()]


def help_answer(topic: str | None = None, ph: Phrasing = TEXT, *, start: bool = False,
                weights: Mapping[str, int] | None = None) -> HelpAnswer:
    """`weights`: units per image at default settings here (CastService.weights); the catalog's when None."""
    if start or not topic:
        return HelpAnswer(topic=None, summary="castbot commands", commands=tuple(command_list(ph)),
                          intro=START_INTRO if start else ())
    name = topic.lstrip("/").lower().replace("-", "_")  # /help forget-me, as the command is typed
    if name not in COMMANDS:
        raise UnknownCommand(command=name, known=tuple(COMMANDS))
    summary = _say_options(COMMANDS[name], ph)
    if name not in GENERATION:
        usage = tuple(line.replace("{attach}", ph.attach_role("character")) for line in USAGE.get(name, (f"/{name}",)))
        return HelpAnswer(topic=name, summary=summary, usage=usage)
    _, allowed = GENERATION[name]
    usage = (f"/{name} [prompt] [{ph.with_value('char', 'NAME')}] "
             f"[{ph.with_value('model', '|'.join(allowed))}] [options]",) if len(allowed) > 1 else (
        f"/{name} [prompt] [{ph.with_value('char', 'NAME')}] [options]",)
    models = tuple(model_help(MODELS[key], ph, (weights or {}).get(key)) for key in allowed)
    return HelpAnswer(topic=name, summary=summary, usage=usage, models=models)


def model_help(model: Model, ph: Phrasing, weight: int | None = None) -> ModelHelp:
    images = []
    for slot in model.images:
        how = ph.attach_role(slot.role)
        if slot.role == "character":
            how += f", or {ph.saved_character} for a saved character"
        images.append(f"{slot.role} image ({'required' if slot.required else 'optional'}): {how}")
    options = tuple(option_help(model, p, ph) for p in model.params if p.flag and ph.offers(p.flag))
    weight = model.weight if weight is None else weight
    units = job_units(model, default_payload(model), weight=weight)
    most = job_units(model, maximum_payload(model, ph.offers), weight=weight)
    return ModelHelp(model.key, model.summary, units, most, price_words(model, units, most, ph), tuple(images),
                     options)


def price_words(model: Model, units: int, most: int, ph: Phrasing) -> str:
    """`2 units at defaults, up to 8 with more --steps or a bigger --upscale`: what raises it is core.pricing's."""
    text = f"{units} unit{'s' if units != 1 else ''} at defaults"
    if most <= units:
        return text + ", whatever the settings"
    raisers = [f"more images ({', '.join(ph.option(f) for f in counts)})"] if (counts := _flags(
        model, (model.count_field, model.per_pose_field), ph)) else []
    for p in PASSES[model.key]:
        if steps := _flags(model, (p.steps,), ph):
            raisers.append(f"more {ph.option(steps[0])}")
        if size := _flags(model, p.size or (), ph):
            unless = _flags(model, (p.unless,), ph)
            raisers.append("a larger " + " x ".join(ph.option(f) for f in size)
                           + (f" and {ph.with_value(unless[0], 'no')}" if unless else ""))
        if scale := _flags(model, (p.scale,), ph):
            raisers.append(f"a bigger {ph.option(scale[0])}")
    return f"{text}, up to {most} with " + " or ".join(raisers)


def _flags(model: Model, names: tuple[str | None, ...], ph: Phrasing) -> list[str]:
    """The user-facing flags, offered on this platform, of these catalog parameters."""
    params = [model.param(n) for n in names if n]
    return [p.flag for p in params if p.flag and ph.offers(p.flag)]


def option_help(model: Model, param: Param, ph: Phrasing) -> OptionHelp:
    assert param.flag is not None
    return OptionHelp(name=ph.option(param.flag), what=param.help, allowed=param.describe_range(),
                      default=default_words(model, param))


def default_words(model: Model, param: Param) -> str:
    """The default as a user would say it; castbot's random seed is "random", not the page's example."""
    if model.seed_field and param.name == model.seed_field:
        return "random"
    value = param.default
    if value is None or value == "":
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    text = str(value)
    return text if len(text) <= LONG_DEFAULT else "a built-in list"


def option_descriptions(command: str, ph: Phrasing) -> dict[str, str]:
    """Platform option name -> description (what, range, default) for a generation command's default model."""
    model = MODELS[GENERATION[command][0]]
    found = {}
    for param in model.params:
        if param.flag and ph.offers(param.flag):
            item = option_help(model, param, ph)
            default = f", default {item.default}" if item.default else ""
            text = f"{item.what or param.flag}: {item.allowed}{default}"
            found[ph.option_names.get(param.flag, param.flag)] = text[:DESCRIPTION_MAX]
    return found


def help_lines(answer: HelpAnswer) -> list[str]:
    """The plain-text form of a help answer (one string per line)."""
    lines = list(answer.intro)
    if answer.topic is None:
        lines.append(f"{answer.summary}:")
        lines += [f"/{c.name} — {c.summary}" for c in answer.commands]
        lines.append("Send /help COMMAND for its options, e.g. /help imagine.")
        return lines
    lines.append(f"/{answer.topic} — {answer.summary}")
    lines += [f"Usage: {u}" if answer.models else u for u in answer.usage]
    for model in answer.models:
        lines.append(f"Model {model.key}: {model.summary}. Cost: {model.price}.")
        lines += [f"  {image}" for image in model.images]
        for option in model.options:
            what = f"{option.what}: " if option.what else ""
            default = f", default {option.default}" if option.default else ""
            lines.append(f"  {option.name}  {what}{option.allowed}{default}")
    return lines


def _say_options(text: str, ph: Phrasing) -> str:
    """The table's summaries say `--model x`; said this platform's way."""
    before_value = ph.with_value("model", "\0").split("\0")[0]  # "--model " or "model:"
    return text.replace("--model ", before_value)
