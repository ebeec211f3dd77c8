"""Help from the one catalog and command table, worded for a platform by its Phrasing.

`help_answer` is what /help and /start return (data); `help_lines` is its plain-text form, which the
console prints as is and the chat adapters escape. `command_list` feeds Telegram's setMyCommands and
Discord's command descriptions; `option_descriptions` feeds Discord's option descriptions.
"""

from __future__ import annotations

from core.catalog import MODELS, Model, Param
from core.commands.answers import CommandHelp, HelpAnswer, ModelHelp, OptionHelp
from core.commands.table import COMMANDS, GENERATION, START_INTRO, USAGE
from core.errors import UnknownCommand
from core.phrasing import TEXT, Phrasing

DESCRIPTION_MAX = 100  # Discord's limit for command and option descriptions; Telegram allows 256
LONG_DEFAULT = 40  # a text default longer than this is summarised, not printed


def command_list(ph: Phrasing = TEXT) -> list[CommandHelp]:
    """Every command with its one-line summary, in the table's order."""
    return [CommandHelp(name, _say_options(summary, ph)) for name, summary in COMMANDS.items()]


def help_answer(topic: str | None = None, ph: Phrasing = TEXT, *, start: bool = False) -> HelpAnswer:
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
    models = tuple(model_help(MODELS[key], ph) for key in allowed)
    return HelpAnswer(topic=name, summary=summary, usage=usage, models=models)


def model_help(model: Model, ph: Phrasing) -> ModelHelp:
    images = []
    for slot in model.images:
        how = ph.attach_role(slot.role)
        if slot.role == "character":
            how += f", or {ph.saved_character} for a saved character"
        images.append(f"{slot.role} image ({'required' if slot.required else 'optional'}): {how}")
    options = tuple(option_help(model, p, ph) for p in model.params if p.flag and ph.offers(p.flag))
    return ModelHelp(model.key, model.summary, model.weight, tuple(images), options)


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
        lines.append(f"Model {model.key}: {model.summary}. Cost: {model.units_per_image} unit(s) per image.")
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
