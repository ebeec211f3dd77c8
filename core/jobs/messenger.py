"""What the engine needs from a platform adapter to show a job: the `Messenger` each adapter implements.

It lives apart from the service and the engine so both (and a job's run) can name it without importing
each other.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from core.types import JobView, OutputImage


class Messenger(Protocol):
    async def show(self, reply_ref: str, view: JobView) -> None:
        """Show (edit) the job's status message. May raise; the engine logs and carries on."""
        ...

    async def deliver(self, reply_ref: str, view: JobView, images: Sequence[OutputImage]) -> None:
        """Send the finished images. Raising means "not delivered": the engine will try again."""
        ...
