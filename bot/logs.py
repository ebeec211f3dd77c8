"""Logging setup for every castbot process: one handler, one redaction filter, text or JSON lines.

Only the CLI calls `configure_logging`; library code just does `log = logging.getLogger(__name__)`.
Secrets are scrubbed in exactly one place, `SecretRedactor`, which sits on the only handler so that
records from every logger (ours, httpx, aiohttp, discord.py, PTB) pass through it.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from bot.settings import Settings

REDACTED = "[REDACTED]"
# Telegram bot tokens look like 123456789:AA...; they appear inside Bot API URLs as `bot<token>`.
_TELEGRAM_TOKEN = re.compile(r"bot\d{3,}:[A-Za-z0-9_-]{20,}")
# Discord interaction tokens ride in webhook / callback URLs: valid 15 minutes, enough to post as the bot.
_INTERACTION_TOKEN = re.compile(r"(/(?:webhooks|interactions)/\d+/)[A-Za-z0-9._-]{20,}")
# ...and anywhere else whole: a Discord interaction token is base64 of "interaction:<id>:<secret>", so it
# is recognisable inside a reply reference's JSON, an SQL parameter list or a repr as well as in a URL.
_INTERACTION_TOKEN_ANYWHERE = re.compile(r"aW50ZXJhY3Rpb246[A-Za-z0-9+/=_.-]+")
# Segmind storage (S3 / CloudFront) URLs of uploaded faces and results: readable by anyone holding them.
_STORAGE_URL = re.compile(r"(https?://[A-Za-z0-9.-]*(?:amazonaws\.com|cloudfront\.net))/[^\s\"'<>),\]]+")
_MIN_SECRET_LENGTH = 4  # shorter "secrets" would shred ordinary words; settings never hold such keys
# Libraries that log every request URL at INFO; their detail is only useful when debugging.
_CHATTY_LOGGERS = ("httpx", "httpcore", "aiohttp.access", "discord.gateway", "discord.http")
# Libraries whose DEBUG output echoes SQL with its parameters (reply references holding interaction
# tokens, storage URLs, prompts) or whole API payloads: held at INFO even when castbot runs at DEBUG.
_ECHOING_LOGGERS = ("aiosqlite", "asyncpg", "discord.webhook", "discord.client", "discord.state", "telegram",
                    "hpack")


class SecretRedactor(logging.Filter):
    """Replaces every configured secret, Telegram and interaction token and storage URL in a record."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        # Longest first, so a secret that contains another is replaced whole.
        self._secrets = sorted({s for s in secrets if len(s) >= _MIN_SECRET_LENGTH}, key=len, reverse=True)
        self._traceback_formatter = logging.Formatter()

    def redact(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, REDACTED)
        text = _TELEGRAM_TOKEN.sub("bot" + REDACTED, text)
        text = _INTERACTION_TOKEN.sub(lambda m: m.group(1) + REDACTED, text)
        text = _INTERACTION_TOKEN_ANYWHERE.sub(REDACTED, text)
        return _STORAGE_URL.sub(lambda m: f"{m.group(1)}/{REDACTED}", text)

    def filter(self, record: logging.LogRecord) -> bool:
        # Render the message now so arguments (URLs, exceptions) are scrubbed before any formatter.
        record.msg = self.redact(record.getMessage())
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = self._traceback_formatter.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line, for log shippers."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exc"] = record.exc_text
        return json.dumps(entry, ensure_ascii=False)


TEXT_FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"


def configure_logging(
    *, level: str = "INFO", fmt: str = "text", secrets: Iterable[str] = (), stream: TextIO | None = None
) -> SecretRedactor:
    """Install the single root handler (replacing any earlier one) and return its redactor."""
    redactor = SecretRedactor(secrets)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.addFilter(redactor)
    if fmt.lower() == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter(TEXT_FORMAT, datefmt="%Y-%m-%d %H:%M:%S"))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    for name in _CHATTY_LOGGERS:
        logging.getLogger(name).setLevel(max(logging.WARNING, root.level))
    for name in _ECHOING_LOGGERS:
        logging.getLogger(name).setLevel(max(logging.INFO, root.level))
    logging.captureWarnings(True)
    return redactor


def configure_from_settings(settings: Settings, *, stream: TextIO | None = None) -> SecretRedactor:
    return configure_logging(
        level=settings.log_level, fmt=settings.log_format, secrets=settings.secrets(), stream=stream
    )
