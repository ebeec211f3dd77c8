"""`castbot generate`: one generation from the command line, on real Segmind or the built-in simulator.

Every input is checked before anything is uploaded or spent; a mistake is one line on stderr and exit
code 2. Images are written to --out and their paths printed on stdout, one per line.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Iterator
from contextlib import AsyncExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from bot.settings import Settings
from core.catalog import MODELS, Model, Transport, build_payload, get_model
from core.clock import Clock, SystemClock
from core.errors import InvalidParameter, UserError
from core.files import FileRefused, extension_for, read_regular_file, write_atomic
from core.images import MAX_INPUT_BYTES, normalize_image
from core.jobs.polling import DurationModel, PollPlan, next_delay
from core.segmind.client import SegmindClient
from core.segmind.errors import SegmindError
from core.segmind.remote import RemoteHandle, RemoteRunner
from core.simulator.server import SimConfig, Simulator
from core.types import ImageInput, ImageRole

log = logging.getLogger(__name__)

SAMPLE_CHARACTER = Path(__file__).parent / "assets" / "sample_character.png"
DEFAULT_TIMEOUT_SECONDS = 900.0
MAX_POLLS = 5_000  # a bound in count as well as in time


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", default="poses", help=f"one of: {', '.join(MODELS)} (default poses)")
    parser.add_argument("--image", help=f"your character's picture (e.g. {_shown(SAMPLE_CHARACTER)})")
    parser.add_argument("--prompt", default="", help="describe the picture you want")
    parser.add_argument("--neg", default=None, help="what to avoid (models with a negative prompt)")
    parser.add_argument("--pose", help="a pose reference picture (models pose, illustration)")
    parser.add_argument("--scene", help="a scene picture to place the character in (model scene)")
    parser.add_argument("--seed", help="same seed, same picture")
    parser.add_argument("--count", help="how many images (models that make several)")
    parser.add_argument("--set", dest="options", action="append", default=[], metavar="OPTION=VALUE",
                        help="any other model option, e.g. --set format=png (repeatable)")
    parser.add_argument("--out", default="output", help="folder for the images (default ./output)")
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT_SECONDS, help="give up after seconds")


@dataclass(frozen=True, slots=True)
class GenerateJob:
    model: Model
    payload: dict[str, Any]
    images: dict[ImageRole, ImageInput]
    out: Path
    timeout: float


def run(args: argparse.Namespace) -> int:
    try:
        settings = Settings()
    except ValidationError as exc:
        first = exc.errors()[0]
        print(f"castbot: bad setting {first['loc'][0]}: {first['msg']}", file=sys.stderr)
        return 2
    try:
        job = build_job(args)
        paths = asyncio.run(_generate(job, settings, clock=SystemClock(), tty=sys.stderr.isatty()))
    except UserError as exc:
        print(f"castbot: {exc}", file=sys.stderr)
        return 2
    except SegmindError as exc:
        print(f"castbot: Segmind refused or failed: {exc}", file=sys.stderr)
        return 1
    except TimeoutError as exc:
        print(f"castbot: {exc}", file=sys.stderr)
        return 1
    except WriteFailed as exc:
        print(f"castbot: cannot write the images to {args.out}: {exc}", file=sys.stderr)
        return 1
    for path in paths:
        print(path)
    return 0


def build_job(args: argparse.Namespace) -> GenerateJob:
    """Validate everything the user typed and read every image; raises UserError with one clear line."""
    model = get_model(args.model)
    payload = _payload(args, model)
    images = _images(args, model)
    if not args.timeout > 0:
        raise InvalidParameter("--timeout must be a positive number of seconds.", param="timeout")
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise InvalidParameter(f"--out {args.out} is a file; give a folder for the images.", param="out")
    return GenerateJob(model, payload, images, out, args.timeout)


def _payload(args: argparse.Namespace, model: Model) -> dict[str, Any]:
    flags = dict(_option(text) for text in args.options)
    if args.seed is not None:
        flags["seed"] = args.seed
    if args.count is not None:
        if model.count_field:
            flags["n"] = args.count
        elif str(args.count).strip() != "1":
            raise InvalidParameter(f"“{model.key}” makes one image per run; drop --count.", param="count")
    try:
        return build_payload(model, prompt=args.prompt, negative=args.neg, flags=flags)
    except InvalidParameter as exc:
        if model.count_field and exc.param == model.count_field and args.count is not None:
            raise InvalidParameter(str(exc).replace("--n ", "--count ", 1), param="count") from None
        raise


def _images(args: argparse.Namespace, model: Model) -> dict[ImageRole, ImageInput]:
    if not args.image:
        raise InvalidParameter(
            f"--image is required: a picture of your character (try --image {_shown(SAMPLE_CHARACTER)}).",
            param="image",
        )
    paths = {ImageRole.CHARACTER: args.image, ImageRole.POSE: args.pose, ImageRole.SCENE: args.scene}
    images: dict[ImageRole, ImageInput] = {}
    for role, path in paths.items():
        if path is None:
            continue
        if model.slot(role) is None:
            raise InvalidParameter(f"“{model.key}” takes no {role.value} image; drop --{role.value}.",
                                   param=role.value)
        images[role] = _read_image(role, path)
    for slot in model.images:
        if slot.required and slot.role not in images:
            raise InvalidParameter(f"“{model.key}” needs a {slot.role.value} image: add --{slot.role.value} FILE.",
                                   param=slot.role.value)
    return images


def _option(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name.strip():
        raise InvalidParameter(f"--set needs OPTION=VALUE, e.g. --set format=png; got “{text}”.", param="set")
    return name.strip().lstrip("-"), value.strip()


def _read_image(role: ImageRole, path_text: str) -> ImageInput:
    path = Path(path_text)
    flag = "--image" if role is ImageRole.CHARACTER else f"--{role.value}"
    try:
        data = read_regular_file(path, max_bytes=MAX_INPUT_BYTES)
    except FileRefused as exc:
        raise UserError(f"{flag}: {path_text} {exc}") from None
    except FileNotFoundError:
        raise UserError(f"{flag}: no such file: {path_text}") from None
    except PermissionError:
        raise UserError(f"{flag}: cannot read {path_text}: permission denied") from None
    except OSError as exc:
        raise UserError(f"{flag}: cannot read {path_text}: {exc.strerror or exc}") from None
    try:
        image = normalize_image(data, filename=path.name)
    except UserError as exc:
        raise type(exc)(f"{flag} {path_text}: {exc}") from None
    return ImageInput(role, image.data, filename=path.name, mime=image.mime)


async def _generate(job: GenerateJob, settings: Settings, *, clock: Clock, tty: bool) -> list[Path]:
    async with AsyncExitStack() as stack:
        if settings.uses_simulator:
            sim = await stack.enter_async_context(Simulator(SimConfig(speed=settings.sim_speed), clock=clock))
            _announce("no SEGMIND_API_KEY set: using the built-in Segmind SIMULATOR "
                      f"(placeholder images, nothing spent, speed x{settings.sim_speed:g})")
            key, api_url, upload_url, speed = sim.config.api_key, sim.url, sim.url, settings.sim_speed
        else:
            assert settings.segmind_api_key is not None  # uses_simulator is False only with a key
            key = settings.segmind_api_key.get_secret_value()
            api_url, upload_url, speed = settings.segmind_api_url, settings.segmind_upload_url, 1.0
            _announce(f"using REAL Segmind at {api_url}: this spends credits")
        client = await stack.enter_async_context(
            SegmindClient(api_key=key, api_url=api_url, upload_url=upload_url, clock=clock))
        runner = RemoteRunner(client)
        with _progress(tty, job.model) as show:
            show("uploading")
            payload = await runner.prepare(job.model, job.payload, job.images)
            show("running" if job.model.transport is Transport.V1 else "submitting")
            started = await runner.start(job.model, payload)
            images = list(started.images)
            if started.handle is not None:
                typical = DurationModel({job.model.key: job.model.typical_seconds / speed})
                images = await _wait(runner, started.handle, show, clock=clock,
                                     expected=typical.estimate(job.model.key), limit=job.timeout)
        return _write(images, job, now=clock.now())


async def _wait(runner: RemoteRunner, handle: RemoteHandle, show: Any, *, clock: Clock,
                expected: tuple[float, float], limit: float) -> list[tuple[bytes, str]]:
    """Poll on the engine's plan (core.jobs.polling): sparse probes before the likely finish, dense
    polls around it, back-off after. `expected`: (median seconds, log-space sigma) for this model."""
    median, sigma = expected
    submitted = clock.now()
    for _ in range(MAX_POLLS):
        elapsed = clock.now() - submitted
        if elapsed >= limit:
            break
        await clock.sleep(min(next_delay(elapsed, median, sigma, PollPlan()), limit - elapsed))
        status = await runner.check(handle, attempts=None)
        show(status.state.lower())
        if status.done:
            show("downloading")
            return await runner.fetch(status)
    raise TimeoutError(f"no result after {limit:g} s; the job is still {handle.transport} {handle.ref}")


class WriteFailed(Exception):
    """The images came back but could not be saved (folder not writable, disk full)."""


def _write(images: list[tuple[bytes, str]], job: GenerateJob, *, now: float) -> list[Path]:
    try:
        return _write_files(images, job, now=now)
    except OSError as exc:
        raise WriteFailed(exc.strerror or str(exc)) from None


def _write_files(images: list[tuple[bytes, str]], job: GenerateJob, *, now: float) -> list[Path]:
    stem = f"{job.model.key}-{job.payload.get(job.model.seed_field or '', int(now))}"
    paths = []
    for index, (data, mime) in enumerate(images, start=1):
        ext = extension_for(mime)
        path = job.out / f"{stem}-{index}{ext}"
        suffix = 1
        while path.exists() and suffix < 1000:  # never overwrite an earlier run's picture
            path = job.out / f"{stem}-{index}-{suffix}{ext}"
            suffix += 1
        write_atomic(path, data)  # an interrupted run leaves no half-written picture behind
        paths.append(path)
    return paths


def _announce(text: str) -> None:
    print(f"castbot: *** {text} ***", file=sys.stderr, flush=True)


@contextmanager
def _progress(tty: bool, model: Model) -> Iterator[Any]:
    """A live spinner with state and elapsed time on a terminal; silent otherwise."""
    if not tty:
        yield lambda state: None
        return
    from rich.console import Console
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                  console=Console(stderr=True), transient=True) as progress:
        task = progress.add_task(model.key)
        yield lambda state: progress.update(task, description=f"{model.key}: {state}")


def _shown(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)
