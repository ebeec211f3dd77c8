"""The image safety gate: every output of a job asked in an SFW place is classified before it is posted.

It runs where a job's images are read back for delivery (core.jobs.run), before any messenger sees them.
Classification happens in a worker thread (asyncio.to_thread), so a slow model never stalls the event
loop. One flagged image holds back the whole job's result: an SFW channel should not get half of a set
whose other half was nude, and the rule stays simple to state. What then happens is the community's choice
(core.store.ratings: withhold, the default, or post as spoilers), and whether a withheld job's units come
back is the operator's (GateConfig.refund). An image the classifier could not read counts as flagged: the
gate fails closed. Every flag is written to the admins' log (core.store.modlog), never with the prompt.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Sequence
from dataclasses import dataclass

from core.clock import Clock
from core.errors import ImageFlagged
from core.moderation.classifier import Classifier, Verdict
from core.moderation.ratings import Flagged, Rating
from core.store.database import Database
from core.store.jobs import JobRecord
from core.store.modlog import ModLog
from core.store.ratings import RatingBook
from core.types import OutputImage

log = logging.getLogger(__name__)

SIDE_BY_SIDE = 2  # images of one set classified at once (worker threads)
DEFAULT_THRESHOLD = 0.7  # Open-NSFW's own guidance: below 0.2 safe, above 0.8 porn; an SFW place leans careful

WITHHELD_REFUNDED = ("The safety check flagged this result, and this place is rated safe for work, so it was "
                     "not posted. Nothing was charged. The community's admins can see this in their log.")
WITHHELD_CHARGED = ("The safety check flagged this result, and this place is rated safe for work, so it was "
                    "not posted. The images were made, so their units were used. The community's admins can "
                    "see this in their log.")


NOT_RELEASED = ("The safety check flagged this result, and this place is rated safe for work, so its images can't "
                "be sent again as files or saved as a character here.")


@dataclass(frozen=True, slots=True)
class GateConfig:
    threshold: float = DEFAULT_THRESHOLD  # a score at or above this flags the image
    refund: bool = True  # the operator's call: a withheld job's units go back to its owner


@dataclass(frozen=True, slots=True)
class Screened:
    """What may be posted: the images (spoiler-marked where flagged), or nothing and why."""

    images: tuple[OutputImage, ...]
    withheld: bool = False
    charge: bool = False  # withheld and the operator keeps the units
    message: str | None = None  # for the user, when withheld


class SafetyGate:
    def __init__(self, classifier: Classifier, *, store: Database, clock: Clock,
                 config: GateConfig | None = None) -> None:
        self.classifier = classifier
        self.config = config or GateConfig()
        self.clock = clock
        self.ratings = RatingBook(store)
        self.modlog = ModLog(store)

    @property
    def active(self) -> bool:
        return self.classifier.active

    async def screen(self, job: JobRecord, images: Sequence[OutputImage]) -> Screened:
        if job.rating != Rating.SFW or not self.active or not images:
            return Screened(tuple(images))
        verdicts = await self._classify_all(job.job_id, images)
        flagged = {i for i, v in enumerate(verdicts) if v is None or v.score >= self.config.threshold}
        if not flagged:
            return Screened(tuple(images))
        choice = await self.ratings.flagged(job.scope_id)
        detail = self._detail(verdicts, flagged)
        if choice is Flagged.SPOILER:
            await self._log(job, "image_spoilered", f"{detail}; posted as spoilers")
            return Screened(tuple(dataclasses.replace(image, spoiler=True) if i in flagged else image
                                  for i, image in enumerate(images)))
        refund = self.config.refund
        await self._log(job, "image_withheld", f"{detail}; withheld, units {'refunded' if refund else 'charged'}")
        return Screened((), withheld=True, charge=not refund,
                        message=WITHHELD_REFUNDED if refund else WITHHELD_CHARGED)

    async def released(self, job: JobRecord, images: list[OutputImage]) -> list[OutputImage]:
        """The images, for sending again (originals) or keeping (save as character); ImageFlagged when the gate
        flags one in an SFW place. A spoiler cover can't follow them there (a file, a character's picture)."""
        if job.rating == Rating.SFW and self.active:
            verdicts = await self._classify_all(job.job_id, images)
            if any(v is None or v.score >= self.config.threshold for v in verdicts):
                raise ImageFlagged(NOT_RELEASED)
        return images

    async def _classify_all(self, job_id: str, images: Sequence[OutputImage]) -> list[Verdict | None]:
        # Side by side, not one after another: a set of four waited ~4x one image's time. Two at a time, as many as
        # the classifier scores at once (opennsfw.MODEL_SLOTS): more would only hold worker threads that wait.
        slots = asyncio.Semaphore(SIDE_BY_SIDE)

        async def one(image: OutputImage) -> Verdict | None:
            async with slots:
                return await self._classify(job_id, image)

        return list(await asyncio.gather(*(one(image) for image in images)))

    async def _classify(self, job_id: str, image: OutputImage) -> Verdict | None:
        try:
            return await asyncio.to_thread(self.classifier.classify, image.data)
        except Exception:  # could not tell is not "safe": the image counts as flagged
            log.warning("job %s: the safety classifier could not read %s", job_id, image.filename, exc_info=True)
            return None

    def _detail(self, verdicts: list[Verdict | None], flagged: set[int]) -> str:
        scores = [f"{v.score:.2f}" if v is not None else "unreadable" for v in verdicts]
        labels = sorted({label for v in verdicts if v is not None for label in v.labels})
        seen = f" ({', '.join(labels)})" if labels else ""
        return (f"{len(flagged)} of {len(verdicts)} image(s) flagged by {self.classifier.name}{seen}: scores "
                f"{', '.join(scores)}, threshold {self.config.threshold:.2f}")

    async def _log(self, job: JobRecord, kind: str, detail: str) -> None:
        await self.modlog.record(scope_id=job.scope_id, platform=job.platform, kind=kind, now=self.clock.now(),
                                 user_id=job.user_id, job_id=job.job_id, detail=detail)
