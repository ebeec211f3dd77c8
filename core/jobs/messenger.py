"""What the engine needs from a platform adapter to show a job: the `Messenger` each adapter implements.

It lives apart from the service and the engine so both (and a job's run) can name it without importing
each other.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from core.types import JobView, OutputImage


class Messenger(Protocol):
    async def show(self, reply_ref: str, view: JobView) -> None:
        """Show (edit) the job's status message. May raise; the engine logs and carries on."""
        ...

    async def deliver(self, reply_ref: str, view: JobView, images: Sequence[OutputImage]) -> Sequence[str] | None:
        """Send the finished images. Raising means "not delivered": the engine will try again.

        Returns the platform's handles of the messages it posted (opaque to core, kept with the job) so a
        removal can delete them later (`MessageRemover`); None when it keeps none."""
        ...


@runtime_checkable
class MessageRemover(Protocol):
    async def remove(self, refs: Sequence[str]) -> int:
        """Delete these posted messages (handles from `deliver`); returns how many it deleted. One already gone,
        or one the platform will not let the bot delete any more, is skipped (the admin is told how many);
        a broken connection raises, and then nothing about the result has been forgotten yet."""
        ...
