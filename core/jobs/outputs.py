"""A job's result files under the data directory: written atomically, read back for delivery and saving."""

from __future__ import annotations

import asyncio
import mimetypes
from pathlib import Path

from core.errors import NotFoundError
from core.files import extension_for, write_atomic
from core.store.jobs import JobRecord
from core.types import JobState, OutputImage

WITHHELD_FILES = "The safety check held this job's images back here, so they can't be sent or saved."


def output_folder(data_dir: Path, job_id: str) -> Path:
    return data_dir / "outputs" / job_id


def planned_outputs(data_dir: Path, job_id: str, files: list[tuple[bytes, str]]) -> list[OutputImage]:
    """Each (bytes, mime) as the image `load_outputs` will give once written as `<n>.<ext>` in the job's folder."""
    folder = output_folder(data_dir, job_id)
    images = []
    for i, (data, mime) in enumerate(files, start=1):
        path = folder / f"{i}{extension_for(mime)}"
        images.append(OutputImage(data, mimetypes.guess_type(path)[0] or "application/octet-stream", path.name,
                                  str(path)))
    return images


async def write_outputs(data_dir: Path, job_id: str, files: list[tuple[bytes, str]]) -> list[str]:
    """Each (bytes, mime) as `<n>.<ext>` in the job's folder; returns the paths in order."""
    images = planned_outputs(data_dir, job_id, files)
    # Side by side: each write waits on its own fsync (a few ms), which need not queue behind the others'.
    await asyncio.gather(*(asyncio.to_thread(write_atomic, Path(image.path), image.data) for image in images))
    return [image.path for image in images]


async def load_outputs(job: JobRecord) -> list[OutputImage]:
    """The job's images, for delivery or a later ask; never those the safety gate held back (every path
    that hands images out — originals, save as character — comes through here)."""
    if job.state == JobState.WITHHELD:
        raise NotFoundError(WITHHELD_FILES)
    images = []
    for path in job.outputs:
        data = await asyncio.to_thread(Path(path).read_bytes)
        mime = mimetypes.guess_type(path)[0] or "application/octet-stream"
        images.append(OutputImage(data, mime, Path(path).name, path))
    return images
