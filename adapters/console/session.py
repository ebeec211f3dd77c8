"""The console adapter: one line of text in, the same command grammar as Telegram, a Request out.

Image inputs are file paths: `/character save Luna ./luna.png`, or `--image`, `--pose-image`,
`--scene-image` on a generation command. Each generation command waits until its job finishes (the
messenger shows live progress meanwhile), so a piped script reads like a conversation.
"""

from __future__ import annotations

import asyncio
import getpass
import logging
import uuid
from pathlib import Path

from adapters.console import render
from adapters.console.admin import run_admin
from adapters.console.messenger import ConsoleMessenger
from core.errors import InvalidParameter, UserError
from core.grammar import COMMANDS, GENERATION_COMMANDS, help_text, parse_command, parse_generation, split_args
from core.service import CastService
from core.types import Actor, ImageInput, ImageRole, JobView, Place, Request

log = logging.getLogger(__name__)

PLATFORM = "console"
IMAGE_FLAGS = {"image": ImageRole.CHARACTER, "pose-image": ImageRole.POSE, "scene-image": ImageRole.SCENE}
MAX_IMAGE_FILE_BYTES = 50 * 1024 * 1024  # the core intake caps further; this stops reading a huge file at all
JOB_CHECK_SECONDS = 5.0  # between checks of the job row, in case a final status update was lost
MAX_JOB_WAIT_CHECKS = 720  # 720 × 5 s: one hour, far beyond any Segmind job, then give the prompt back
SOMETHING_WRONG = "Something went wrong on our side; nothing was charged."
CONSOLE_HELP = (
    "In the console, images are file paths: /character save NAME ./photo.png [description], "
    "or --image / --pose-image / --scene-image PATH on /imagine, /pose, /scene, /sheet. /quit leaves."
)


def console_identity(user: str | None = None) -> tuple[Actor, Place]:
    """The one stable console user: the OS account, admin of its own private scope."""
    name = user or getpass.getuser()
    # The person at the terminal runs the bot, so they administer their own scope.
    actor = Actor(platform=PLATFORM, user_id=name, name=name, is_admin=True)
    return actor, Place(platform=PLATFORM, scope_id=f"dm:{name}", chat_id=f"dm:{name}")


class ConsoleSession:
    """Turns console lines into service calls; `handle` is the adapter's single error handler."""

    def __init__(self, service: CastService, messenger: ConsoleMessenger, *, user: str | None = None,
                 base_dir: Path | None = None) -> None:
        self.service = service
        self.messenger = messenger
        self.actor, self.place = console_identity(user)
        self.base_dir = base_dir or Path.cwd()  # relative image paths resolve from here
        self.last_job: JobView | None = None
        self.running = True
        service.register_messenger(PLATFORM, messenger)

    async def handle(self, line: str) -> None:
        """Run one line; every error ends here as one friendly line."""
        try:
            await self._dispatch(line.strip())
        except UserError as exc:
            self.messenger.say(f"error: {exc}")
        except Exception:
            log.exception("console command failed: %s", line.strip()[:200])
            self.messenger.say(f"error: {SOMETHING_WRONG}")

    async def _dispatch(self, line: str) -> None:
        if not line or line.startswith("#"):
            return
        if line.lower() in ("quit", "exit", "/quit", "/exit"):
            self.running = False
            return
        parsed = parse_command(line)
        if parsed is None:
            raise InvalidParameter("Commands start with /, for example /imagine --char Luna on a beach. Try /help.")
        name, args = parsed.name, parsed.args
        if name in GENERATION_COMMANDS:
            await self.generate(name, args)
        elif name in ("start", "help"):
            self.messenger.say(help_text(args.split()[0] if args.split() else None))
            if not args:
                self.messenger.say(CONSOLE_HELP)
        elif name == "character":
            await self.character(args)
        elif name == "quota":
            self.messenger.say(render.quota_text(await self.service.quota(self.actor, self.place)))
        elif name == "history":
            jobs = await self.service.history(self.actor, self.place, limit=_int_arg(args, default=10))
            self.messenger.say(render.history_text(jobs))
        elif name == "cancel":
            view = await self.service.cancel(self.actor, self.place, args.strip() or None)
            self.messenger.say(render.status_line(view))
        elif name == "admin":
            self.messenger.say(await run_admin(self.service, self.actor, self.place, args))
        else:
            raise InvalidParameter(f"There is no /{name} command. Known: {', '.join('/' + c for c in COMMANDS)}.")

    # --- generation ------------------------------------------------------------------------------

    async def generate(self, command: str, args: str) -> JobView:
        parsed = parse_generation(command, args)
        flags = dict(parsed.flags)
        images = []
        for flag, role in IMAGE_FLAGS.items():
            if flag in flags:
                raw_path = flags.pop(flag)
                data = await self._read_image(raw_path)
                images.append(ImageInput(role=role, data=data, filename=Path(raw_path).name))
        reply_ref = f"console:{uuid.uuid4().hex}"
        request = Request(
            actor=self.actor, place=self.place, model=parsed.model, prompt=parsed.prompt, negative=parsed.negative,
            character_name=parsed.character, images=tuple(images), params=flags,
            idem_key=f"{PLATFORM}:{uuid.uuid4().hex}", reply_ref=reply_ref,
        )
        view = await self.service.submit(request)
        self.messenger.say(f"job {render.short_id(view.job_id)} accepted: {view.model}, cost {view.cost} unit(s)")
        await self.messenger.show(reply_ref, view)
        self.last_job = await self.wait_for(reply_ref, view)
        return self.last_job

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

    async def _read_image(self, raw_path: str) -> bytes:
        return await asyncio.to_thread(_read_image_file, self.base_dir, raw_path)

    # --- characters ------------------------------------------------------------------------------

    async def character(self, args: str) -> None:
        words = split_args(args)
        action, rest = (words[0].lower(), words[1:]) if words else ("list", [])
        if action == "save":
            await self._save_character(rest)
        elif action == "list":
            found = await self.service.characters(self.actor, self.place, prefix=rest[0] if rest else "")
            self.messenger.say(render.characters_text(found))
        elif action == "show" and len(rest) == 1:
            character, _ = await self.service.character(self.actor, self.place, rest[0])
            self.messenger.say(f"{render.character_line(character)}\n  image: {character.image_path}")
        elif action == "rename" and len(rest) == 2:
            renamed = await self.service.rename_character(self.actor, self.place, rest[0], rest[1])
            self.messenger.say(f"renamed {rest[0]} to {renamed.name}")
        elif action == "delete" and len(rest) == 1:
            await self.service.delete_character(self.actor, self.place, rest[0])
            self.messenger.say(f"deleted {rest[0]}")
        else:
            raise InvalidParameter("Use /character save NAME PATH [description] · list · show NAME · "
                                   "rename OLD NEW · delete NAME (see /help character).")

    async def _save_character(self, rest: list[str]) -> None:
        # Telegram asks `--consent` explicitly; at the console saving your own file is consent, so it is optional.
        rest = [word for word in rest if word.lower() != "--consent"]
        if len(rest) < 2:
            raise InvalidParameter("Use /character save NAME ./photo.png [description], "
                                   "or /character save NAME --job ID [--index N] to keep a result.")
        name, source, description = rest[0], rest[1], " ".join(rest[2:])
        if source == "--job":
            job_id = rest[2] if len(rest) > 2 else (self.last_job.job_id if self.last_job else "")
            index = int(rest[4]) - 1 if len(rest) > 4 and rest[3] == "--index" and rest[4].isdigit() else 0
            saved = await self.service.save_character_from_job(self.actor, self.place, job_id=job_id, name=name,
                                                               index=index)
        else:
            image = await self._read_image(source)
            # Saving a file from your own disk on your own machine is the console user's consent.
            saved = await self.service.save_character(self.actor, self.place, name=name, image=image,
                                                      description=description, consent=True)
        self.messenger.say(f"saved character {saved.name}: use it with /imagine --char {saved.name} ...")


def _int_arg(args: str, *, default: int) -> int:
    text = args.strip()
    if not text:
        return default
    if not text.isdigit() or not 1 <= int(text) <= 100:
        raise InvalidParameter("Give a number from 1 to 100, e.g. /history 20.")
    return int(text)


def _read_image_file(base_dir: Path, raw_path: str) -> bytes:
    path = Path(raw_path).expanduser()
    path = path if path.is_absolute() else base_dir / path
    try:
        size = path.stat().st_size
        if size > MAX_IMAGE_FILE_BYTES:
            raise InvalidParameter(f"{raw_path} is {size // 1_048_576} MB; images up to 50 MB, please.")
        return path.read_bytes()
    except OSError as exc:
        raise InvalidParameter(f"Cannot read {raw_path}: {exc.strerror or exc}.") from None
