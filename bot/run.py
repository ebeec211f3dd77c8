"""`castbot run`: the production process — engine, every adapter with a token, optional health listener.

One instance per database: an exclusive `flock` on `<db>.lock` beside the SQLite file, so a second
process reports the first instead of double-polling the same tokens. SIGTERM / SIGINT stop the
adapters first (no new work), then the engine (its state is already in the store), within
SHUTDOWN_SECONDS; the next start resumes every unfinished job.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import fcntl
import logging
import os
import signal
import sys
from pathlib import Path
from typing import Any, Protocol

from bot.app import App, build_app
from bot.health import HealthServer, probe_for
from bot.logs import SecretRedactor, configure_from_settings
from bot.settings import Settings
from core.metrics import ADAPTER_CONNECTED

log = logging.getLogger(__name__)

SHUTDOWN_SECONDS = 8.0  # adapters + engine must be down by then; the promise to operators is 10 s
NO_PLATFORM = ("castbot run: no platform token set. Set DISCORD_TOKEN and/or TELEGRAM_TOKEN "
               "(see docs/operators.md), or try `castbot console`, which needs none.")


class Adapter(Protocol):
    async def start(self) -> None: ...
    async def stop(self) -> None: ...


class AlreadyRunning(Exception):
    pass


class AdapterStartError(Exception):
    """A platform refused to start (token rejected, API unreachable): an operator problem, not a bug."""


class InstanceLock:
    """An exclusive, non-blocking flock on a file next to the database; released when the process dies."""

    def __init__(self, db_path: Path) -> None:
        self.db_path = db_path
        self.path = db_path.with_name(db_path.name + ".lock")
        self._fd: int | None = None

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 32).decode(errors="replace").strip()
            os.close(fd)
            raise AlreadyRunning(f"another castbot is running on {self.db_path}"
                                 + (f" (pid {holder})" if holder.isdigit() else "")) from None
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> InstanceLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def configured_platforms(settings: Settings) -> list[str]:
    tokens = {"discord": settings.discord_token, "telegram": settings.telegram_token}
    return [name for name, token in tokens.items() if token is not None and token.get_secret_value()]


def build_adapters(app: App) -> list[tuple[str, Adapter]]:
    """One adapter per platform with a token. Imported here so a missing platform costs nothing."""
    settings = app.settings
    adapters: list[tuple[str, Adapter]] = []
    if "discord" in configured_platforms(settings):
        from adapters.discord.adapter import DiscordAdapter

        assert settings.discord_token is not None
        adapters.append(("discord", DiscordAdapter(
            app.service, token=settings.discord_token.get_secret_value(), api_url=settings.discord_api_url,
            gateway_url=settings.discord_gateway_url, guild_id=settings.discord_guild_id, clock=app.clock,
            shard_count=settings.discord_shard_count,
        )))
    if "telegram" in configured_platforms(settings):
        from adapters.telegram.adapter import TelegramAdapter

        assert settings.telegram_token is not None
        adapters.append(("telegram", TelegramAdapter(
            app.service, token=settings.telegram_token.get_secret_value(), api_url=settings.telegram_api_url,
            clock=app.clock,
        )))
    return adapters


async def serve(settings: Settings, stop: asyncio.Event) -> None:
    """Run until `stop` is set; adapters leave first so no new work arrives while the engine stops."""
    async with build_app(settings) as app, contextlib.AsyncExitStack() as stack:
        if settings.http_port is not None:
            await stack.enter_async_context(
                HealthServer(probe_for(settings.db_path), port=settings.http_port, host=settings.http_host)
            )
        for platform, adapter in build_adapters(app):
            try:
                await adapter.start()
            except Exception as exc:
                raise AdapterStartError(f"the {platform} adapter could not start: {exc}") from exc
            stack.push_async_callback(_stop_adapter, platform, adapter)
            app.adapters.append(adapter)
            ADAPTER_CONNECTED.labels(platform=platform).set(1)
        log.info("castbot running: %s; images from %s", ", ".join(configured_platforms(settings)),
                 "the simulator" if settings.uses_simulator else "Segmind")
        await stop.wait()
        log.info("stopping: taking no new work; unfinished jobs resume on the next start")


async def _stop_adapter(platform: str, adapter: Adapter) -> None:
    ADAPTER_CONNECTED.labels(platform=platform).set(0)
    try:
        await adapter.stop()
    except Exception:
        log.warning("%s adapter did not stop cleanly", platform, exc_info=True)


async def supervise(settings: Settings) -> int:
    """Serve, turning SIGTERM / SIGINT into a bounded, orderly stop."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    task = asyncio.create_task(serve(settings, stop), name="castbot-serve")
    stopping = asyncio.create_task(stop.wait())
    await asyncio.wait({task, stopping}, return_when=asyncio.FIRST_COMPLETED)
    if not task.done():
        done, _ = await asyncio.wait({task}, timeout=SHUTDOWN_SECONDS)
        if not done:
            log.warning("shutdown took over %.0f s; abandoning what is left (the store has every job)",
                        SHUTDOWN_SECONDS)
            task.cancel()
            await asyncio.wait({task}, timeout=1.0)
    stopping.cancel()
    if task.done() and not task.cancelled() and task.exception() is not None:
        raise task.exception()  # type: ignore[misc]
    log.info("stopped")
    return 0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """`castbot run` takes its configuration from the environment and `.env` (see docs/operators.md)."""


def run(args: Any) -> int:
    settings = Settings()
    redactor = configure_from_settings(settings)
    if not configured_platforms(settings):
        print(NO_PLATFORM, file=sys.stderr)
        return 1
    lock = InstanceLock(settings.db_path)
    try:
        lock.acquire()
    except AlreadyRunning as exc:
        print(f"castbot run: {exc}", file=sys.stderr)
        return 1
    try:
        return asyncio.run(supervise(settings))
    except AdapterStartError as exc:
        log.debug("adapter start failed", exc_info=True)
        print(f"castbot run: {_one_line(exc, redactor)} (`castbot doctor` checks every token)", file=sys.stderr)
        return 1
    except Exception as exc:
        log.error("castbot run failed", exc_info=True)
        print(f"castbot run: {_one_line(exc, redactor)}", file=sys.stderr)
        return 1
    finally:
        lock.release()


def _one_line(exc: BaseException, redactor: SecretRedactor) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return redactor.redact(text)[:300]


if __name__ == "__main__":
    sys.exit(run(argparse.Namespace()))
