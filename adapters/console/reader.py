"""Reading console lines without blocking the event loop, interactive (with a prompt) or piped.

Each read runs in a daemon thread: a thread stuck in `input()` when the user presses Ctrl-C must not
keep the process alive, which `asyncio.to_thread` (the default executor, joined at exit) would.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from typing import TextIO


class LineReader:
    def __init__(self, stream: TextIO, *, interactive: bool) -> None:
        self._stream = stream
        self._interactive = interactive

    async def read(self, prompt: str = "castbot> ") -> str | None:
        """The next line without its newline, or None at end of input."""
        loop = asyncio.get_running_loop()
        result: asyncio.Future[str | None] = loop.create_future()

        def deliver(line: str | None) -> None:
            if not result.done():
                result.set_result(line)

        def work() -> None:
            try:
                # input() gives line editing on a terminal; a pipe is read as a plain stream.
                line: str | None = input(prompt) if self._interactive else self._stream.readline()
            except (EOFError, OSError, ValueError):
                line = None
            if line == "" and not self._interactive:
                line = None  # readline() returns "" only at end of file
            # RuntimeError: the loop closed while we waited for the user; nobody wants this line any more.
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(deliver, line.rstrip("\r\n") if line is not None else None)

        threading.Thread(target=work, name="castbot-console-input", daemon=True).start()
        return await result
