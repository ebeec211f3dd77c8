"""How one platform names things in messages: its options, its way of attaching each image, of naming a user.

Core words every user error and every help page through a `Phrasing`, so a rule written once reads right
everywhere: `--n` in the console and on Telegram, the `count` option on Discord; `--pose-image PATH` in the
console, "the pose_image option" on Discord. An adapter builds its one Phrasing and passes it; it never
rewrites core's text.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Phrasing:
    platform: str
    option_format: str = "--{name}"  # how an option is written in a sentence
    option_names: Mapping[str, str] = field(default_factory=dict)  # core option name -> platform's name
    offered: frozenset[str] | None = None  # options this platform offers at all; None = every one
    attach: Mapping[str, str] = field(default_factory=dict)  # image role -> how to attach it here
    saved_character: str = "--char NAME"  # how to use a saved character instead of a photo
    name_user: str = "their numeric user id"  # how an admin names a user for ban/unban/--user
    value_format: str = "{option} {value}"  # as typed: {option} is the formatted option, {name} the bare name

    def option(self, name: str) -> str:
        """`--n` / the `count` option: core's option name said this platform's way."""
        return self.option_format.format(name=self.option_names.get(name, name))

    def offers(self, name: str) -> bool:
        return self.offered is None or name in self.offered

    def with_value(self, name: str, value: object) -> str:
        return self.value_format.format(option=self.option(name), name=self.option_names.get(name, name), value=value)

    def attach_role(self, role: str) -> str:
        return self.attach.get(role) or f"attach the {role} image"


# The text grammar (Telegram and console) as core says it when no platform is known: str(error) uses it.
TEXT = Phrasing(
    platform="text",
    attach={
        "character": "attach the character photo (or reply to one)",
        "pose": "send the pose image together with the character photo",
        "scene": "send the scene image together with the character photo",
    },
)
