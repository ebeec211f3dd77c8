"""The console's Messenger: live progress bars on a terminal, one plain line per change when piped.

Delivered images are written under the output folder and their paths printed, one per line, so a
script can pick them up. `reply_ref` is an opaque per-command string; after a restart the engine may
call back with a reference from an earlier session, which simply prints like any other.
"""

from __future__ import annotations

import asyncio
import logging
import mimetypes
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TaskID, TextColumn, TimeElapsedColumn

from adapters.console.render import short_id, state_word, status_line
from core.files import write_atomic
from core.types import JobState, JobView, OutputImage

log = logging.getLogger(__name__)


class ConsoleMessenger:
    """Implements core.service.Messenger for the terminal."""

    def __init__(self, out_dir: Path, *, stream: TextIO | None = None, live: bool | None = None) -> None:
        self.out_dir = Path(out_dir)
        self._stream = stream or sys.stdout
        self._live = self._stream.isatty() if live is None else live
        self._console = Console(file=self._stream, soft_wrap=True, highlight=False)
        self._progress: Progress | None = None
        self._tasks: dict[str, TaskID] = {}  # reply_ref -> progress bar while the job runs
        self._last_line: dict[str, str] = {}  # reply_ref -> last plain status printed
        self._finished: dict[str, asyncio.Event] = {}
        self.final_views: dict[str, JobView] = {}  # reply_ref -> the job's final view
        self.written: dict[str, list[Path]] = {}  # reply_ref -> image files written

    # --- what the session uses -------------------------------------------------------------------

    def say(self, text: str) -> None:
        """Print a line (or several) above any live progress bars."""
        if self._live:
            self._console.print(text, markup=False)
        else:
            self._stream.write(text + "\n")
            self._stream.flush()

    def finished(self, reply_ref: str) -> asyncio.Event:
        """Set once the job behind `reply_ref` reaches a final state."""
        return self._finished.setdefault(reply_ref, asyncio.Event())

    def close(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None
            self._tasks.clear()

    # --- Messenger protocol ----------------------------------------------------------------------

    async def show(self, reply_ref: str, view: JobView) -> None:
        if self._live:
            self._show_live(reply_ref, view)
        else:
            line = status_line(view)
            if self._last_line.get(reply_ref) != line:
                self._last_line[reply_ref] = line
                self.say(line)
        if view.state.is_final:
            self._last_line.pop(reply_ref, None)
            self.final_views[reply_ref] = view
            self.finished(reply_ref).set()

    async def deliver(self, reply_ref: str, view: JobView, images: Sequence[OutputImage]) -> list[str]:
        # Writing can fail (disk full): raising tells the engine "not delivered", and it tries again.
        paths = await asyncio.to_thread(self._write_images, view.job_id, images)
        self.written[reply_ref] = paths
        self.say(f"job {short_id(view.job_id)}: {len(paths)} image(s) written")
        for path, image in zip(paths, images, strict=True):
            # a terminal has no spoiler cover: the file is written, and the line says what it is
            self.say(f"  {path}" + ("  (flagged by the safety check: open with care)" if image.spoiler else ""))
        return [str(path) for path in paths]  # the console's "messages": a removal deletes these files

    async def remove(self, refs: Sequence[str]) -> int:
        """A removed result's files in the output folder (only files this messenger wrote there)."""
        return await asyncio.to_thread(self._unlink_written, refs)

    # --- internals -------------------------------------------------------------------------------

    def _unlink_written(self, refs: Sequence[str]) -> int:
        removed = 0
        root = self.out_dir.resolve()
        for ref in refs:
            path = Path(ref)
            if path.parent != root or not path.is_file():  # gone already, or not ours: never outside the folder
                continue
            path.unlink(missing_ok=True)
            removed += 1
        return removed

    def _write_images(self, job_id: str, images: Sequence[OutputImage]) -> list[Path]:
        self.out_dir.mkdir(parents=True, exist_ok=True)
        paths = []
        for number, image in enumerate(images, start=1):
            suffix = Path(image.filename).suffix or mimetypes.guess_extension(image.mime) or ".img"
            path = self.out_dir / f"{short_id(job_id)}-{number}{suffix}"
            write_atomic(path, image.data)
            paths.append(path.resolve())
        return paths

    def _show_live(self, reply_ref: str, view: JobView) -> None:
        if self._progress is None:
            self._progress = Progress(
                SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(),
                TextColumn("{task.fields[status]}"), console=self._console,
            )
            self._progress.start()
        task = self._tasks.get(reply_ref)
        status = _live_status(view)
        if task is None:
            description = f"job {short_id(view.job_id)} {view.model}"
            task = self._progress.add_task(description, total=1.0, status=status)
            self._tasks[reply_ref] = task
        done = 1.0 if view.state == JobState.DELIVERED else view.progress
        self._progress.update(task, completed=done, status=status)
        if view.state.is_final:
            self._progress.stop_task(task)
            self._tasks.pop(reply_ref, None)
            if not self._tasks:
                self.close()


def _live_status(view: JobView) -> str:
    parts = [state_word(view)]
    if view.position is not None:
        parts.append(f"#{view.position} in queue")
    if view.eta is not None and not view.state.is_final:
        parts.append(f"~{view.eta:.0f}s left")
    if view.error:
        parts.append(view.error)
    return ", ".join(parts)
