"""The platform-neutral service every adapter calls. Adapters never touch the store or Segmind.

Contract (stable; adapters are written against it):

- `submit(request)` validates, resolves the character, checks bans and quota, holds quota and writes the
  job in one transaction, and returns the first `JobView`. A replayed `idem_key` returns the existing
  job and charges nothing. User mistakes raise `core.errors.UserError` subclasses whose `str()` is a
  friendly message.
- Progress comes back only through the `Messenger` registered for `request.actor.platform`:
  `show(reply_ref, view)` for every changed status, `deliver(reply_ref, view, images)` once with the
  images. After a restart the engine calls them again with the persisted `reply_ref`.
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
