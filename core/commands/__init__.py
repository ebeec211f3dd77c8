"""One command layer: typed commands in, typed answers out, for every platform.

- `core.commands.types`   the commands (Generate, CharacterSave, AdminQuota, Reroll, …), UserRef, ImageSource
- `core.commands.parser`  the text grammar (Telegram, console) -> commands
- `core.commands.router`  CommandRouter.handle(actor, place, command, …) -> an answer
- `core.commands.answers` the answers (data, never text)
- `core.commands.help`    help pages and command descriptions from the catalog, worded by a Phrasing
- `core.commands.precheck` what is checked before any image is downloaded

This package's __init__ imports nothing, so core.service may import its leaves without a cycle.
"""
