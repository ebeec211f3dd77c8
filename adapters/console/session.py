"""The console adapter: a line of text -> core's parser -> core's router -> plain text.

Image inputs are file paths: `/character save Luna ./luna.png --consent`, or `--image PATH` (the character,
or the next image the command needs), `--pose-image PATH`, `--scene-image PATH` on a generation command.
Files are read only after core's precheck passed. Each generation command waits until its job finishes
(the messenger shows live progress meanwhile), so a piped script reads like a conversation.
"""

from __future__ import annotations

import asyncio
import dataclasses
import getpass
import logging
import uuid
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

from adapters.console import render
from adapters.console.messenger import ConsoleMessenger
from core.commands import answers as a
from core.commands import types as c
from core.commands.parser import ImageWords, parse
from core.commands.router import CommandRouter
from core.errors import InvalidParameter, UserError, word
from core.files import FileRefused, read_regular_file
from core.phrasing import Phrasing
from core.service import CastService
from core.types import Actor, ImageRole, JobView, Place

log = logging.getLogger(__name__)

PLATFORM = "console"
IMAGE_WORDS = ImageWords(flags={"image": None, "pose-image": ImageRole.POSE, "scene-image": ImageRole.SCENE},
                         save_path=True)
PHRASING = Phrasing(
    platform=PLATFORM,
    attach={"character": "give its file with --image PATH", "pose": "give the pose image with --pose-image PATH",
            "scene": "give the scene image with --scene-image PATH"},
    name_user="their console user name",
)
MAX_IMAGE_FILE_BYTES = 50 * 1024 * 1024  # the core intake caps further; this stops reading a huge file at all
JOB_CHECK_SECONDS = 5.0  # between checks of the job row, in case a final status update was lost
MAX_JOB_WAIT_CHECKS = 720  # 720 × 5 s: one hour, far beyond any Segmind job, then give the prompt back
SOMETHING_WRONG = "Something went wrong on our side; nothing was charged."
CONSOLE_HELP = (
    "In the console, images are file paths: /character save NAME ./photo.png --consent [description], "
    "or --image / --pose-image / --scene-image PATH on /imagine, /pose, /scene, /sheet. /quit leaves."
)


def console_identity(user: str | None = None) -> tuple[Actor, Place]:
    """The one stable console user: the OS account, admin of its own private scope."""
    name = user or getpass.getuser()
    # The person at the terminal runs the bot, so they administer their own scope.
    actor = Actor(platform=PLATFORM, user_id=name, name=name, is_admin=True)
    return actor, Place(platform=PLATFORM, scope_id=f"dm:{name}", chat_id=f"dm:{name}")


class ConsoleSession:
    """Turns console lines into commands for the router; `handle` is the adapter's single error handler."""

    def __init__(self, service: CastService, messenger: ConsoleMessenger, *, user: str | None = None,
                 base_dir: Path | None = None, identity: tuple[Actor, Place] | None = None,
                 follow_jobs: bool = True) -> None:
        """`identity` replaces the OS user (a scripted session with several people in one community);
        `follow_jobs=False` gives the prompt back as soon as a job is accepted."""
        self.service = service
        self.router = CommandRouter(service, PHRASING)
        self.messenger = messenger
        self.actor, self.place = identity or console_identity(user)
        self.base_dir = base_dir or Path.cwd()  # relative image paths resolve from here
        self.last_job: JobView | None = None
        self.last_answer: a.Answer | None = None  # what the last line got, for scripts and tests
        self.last_error: UserError | None = None
        self.running = True
        self.follow_jobs = follow_jobs
        # A console session starts a new conversation: old jobs' final statuses are not printed again.
        service.register_messenger(PLATFORM, messenger, reshow_finals=False)

    async def handle(self, line: str) -> None:
        """Run one line; every error ends here as one friendly line."""
        await self._guarded(self._dispatch(line.strip()), line)

    async def press(self, command: c.Command) -> None:
        """Run a command that has no text form here (a job's button on a chat platform)."""
        await self._guarded(self._run(command, ()), repr(command))

    async def _guarded(self, work: Coroutine[Any, Any, None], what: str) -> None:
        self.last_answer, self.last_error = None, None
        try:
            await work
        except UserError as exc:
            self.last_error = exc
            self.messenger.say(f"error: {word(exc, PHRASING)}")
        except Exception:
            log.exception("console command failed: %s", what.strip()[:200])
            self.messenger.say(f"error: {SOMETHING_WRONG}")

    async def _dispatch(self, line: str) -> None:
        if not line or line.startswith("#"):
            return
        if line.lower() in ("quit", "exit", "/quit", "/exit"):
            self.running = False
            return
        try:
            parsed = parse(line, IMAGE_WORDS)
            sources = tuple(self._source(role, path) for role, path in parsed.images)
            command = _resolve_users(parsed.command)
        except UserError as exc:  # core counts it against the sender's rate, then refuses it
            command, sources = c.Invalid(exc), ()
        await self._run(command, sources)

    async def _run(self, command: c.Command, sources: tuple[c.ImageSource, ...]) -> None:
        reply_ref = f"console:{uuid.uuid4().hex}"
        answer = await self.router.handle(self.actor, self.place, command, sources=sources, fetch=self._fetch,
                                          event_id=f"{PLATFORM}:{uuid.uuid4().hex}", reply_ref=reply_ref)
        self.last_answer = answer
        if isinstance(answer, a.Throttled | a.Ignored):  # after its one warning (a flood, an unlisted place): silence
            return
        self.messenger.say(render.answer_text(answer))
        if isinstance(answer, a.HelpAnswer) and answer.topic is None:
            self.messenger.say(CONSOLE_HELP)
        if isinstance(answer, a.JobAccepted):
            await self.messenger.show(reply_ref, answer.view)
            self.last_job = await self.wait_for(reply_ref, answer.view) if self.follow_jobs else answer.view

    def _source(self, role: ImageRole | None, raw_path: str) -> c.ImageSource:
        path = _resolve_path(self.base_dir, raw_path)
        try:
            size: int | None = path.stat().st_size
        except OSError:
            size = None  # reported when the file is read, after the precheck
        return c.ImageSource(handle=raw_path, role=role, filename=path.name, size=size)

    async def _fetch(self, source: c.ImageSource) -> bytes:
        return await asyncio.to_thread(_read_image_file, self.base_dir, source.handle)

    async def wait_for(self, reply_ref: str, view: JobView) -> JobView:
        """Until the job is final: woken by the messenger, checking the row now and then in case."""
        finished = self.messenger.finished(reply_ref)
        for _ in range(MAX_JOB_WAIT_CHECKS):
            if finished.is_set():
                return self.messenger.final_views.get(reply_ref, view)
            try:
                await asyncio.wait_for(finished.wait(), JOB_CHECK_SECONDS)
            except TimeoutError:
                view = await self.service.job_view(view.job_id)
                if view.state.is_final:
                    return view
        self.messenger.say(f"job {render.short_id(view.job_id)} is still running; see /history later")
        return view


def _resolve_users(command: c.Command) -> c.Command:
    """A console user is named by their user name, which is their id. An `@name` is a chat mention the
    console cannot resolve: it stays unresolved, and core refuses it."""
    user = getattr(command, "user", None)
    if isinstance(user, c.UserRef) and not user.resolved and user.text and not user.text.startswith("@"):
        return dataclasses.replace(command, user=c.UserRef(user_id=user.text, text=user.text))
    return command


def _resolve_path(base_dir: Path, raw_path: str) -> Path:
    path = Path(raw_path).expanduser()
    return path if path.is_absolute() else base_dir / path


def _read_image_file(base_dir: Path, raw_path: str) -> bytes:
    path = _resolve_path(base_dir, raw_path)
    try:
        return read_regular_file(path, max_bytes=MAX_IMAGE_FILE_BYTES)
    except FileRefused as exc:
        raise InvalidParameter(f"{raw_path} {exc}.") from None
    except OSError as exc:
        raise InvalidParameter(f"Cannot read {raw_path}: {exc.strerror or exc}.") from None
