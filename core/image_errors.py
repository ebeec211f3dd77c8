"""Errors about a command's images (a missing, unexpected, doubled or oversized one), worded per platform like
every data-carrying error in core.errors."""

from __future__ import annotations

from dataclasses import dataclass

from core.errors import Worded
from core.phrasing import Phrasing


@dataclass(eq=False)
class MissingImage(Worded):
    command: str
    model: str
    role: str
    saved_allowed: bool  # a saved character could stand in (no --char was given)

    def words(self, ph: Phrasing) -> str:
        if self.role == "character":
            saved = f", or use {ph.saved_character} for a saved one (see /character list)" if self.saved_allowed else ""
            return f"/{self.command} needs your character: {ph.attach_role('character')}{saved}."
        return f"/{self.command} also needs a {self.role} image: {ph.attach_role(self.role)}."


@dataclass(eq=False)
class UnexpectedImage(Worded):
    """An image this model has no place for (a role it doesn't take, or one image too many)."""

    command: str
    model: str
    role: str | None  # None: a positional image beyond the model's slots
    roles: tuple[str, ...] = ()  # the roles the model takes

    def words(self, ph: Phrasing) -> str:
        if self.role is None:
            return f"/{self.command} takes {len(self.roles)} image(s): {', '.join(self.roles)}; you sent more."
        return f"“{self.model}” does not take a {self.role} image."


@dataclass(eq=False)
class ImageConflict(Worded):
    """A character photo and a saved character were both given."""

    command: str
    model: str
    other_roles: tuple[str, ...] = ()  # the other images this command takes, to point at the right place

    def words(self, ph: Phrasing) -> str:
        text = f"Send either a character photo or {ph.saved_character}, not both."
        if self.other_roles:
            text += " " + "; ".join(f"the {r} image: {ph.attach_role(r)}" for r in self.other_roles) + "."
        return text


@dataclass(eq=False)
class ImageTooBig(Worded):
    filename: str
    size: int
    limit: int

    def words(self, ph: Phrasing) -> str:
        return f"{self.filename} is {self.size // 1_048_576} MB; images up to {self.limit // 1_048_576} MB, please."
