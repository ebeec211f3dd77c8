"""The one redaction filter: no configured secret or Telegram token survives any log path."""

from __future__ import annotations

import io
import json
import logging

import pytest

from bot.logs import REDACTED, configure_logging

DISCORD = "MTIzNDU2Nzg5MDEyMzQ1Njc4.GhIjKl.abcdefghijklmnopqrstuvwxyz012345"
SEGMIND = "SG_0123456789abcdef"
TELEGRAM = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
UNCONFIGURED_TELEGRAM = "987654321:BBHdqTcvCH1vGWJxfSeofSAs0K5PALDxyz"
INTERACTION = "aW50ZXJhY3Rpb246MTIzNDU2Nzg5MDEyMzQ1Njc4OnNlY3JldA"


@pytest.fixture
def restore_root_logging():
    root = logging.getLogger()
    saved_handlers, saved_level = list(root.handlers), root.level
    yield
    for handler in list(root.handlers):
        root.removeHandler(handler)
    for handler in saved_handlers:
        root.addHandler(handler)
    root.setLevel(saved_level)


def _log_everything(logger: logging.Logger) -> None:
    logger.info("segmind key %s in a header", SEGMIND)
    logger.warning("GET https://api.telegram.org/bot%s/getMe failed", TELEGRAM)
    logger.info("other token: https://api.telegram.org/bot" + UNCONFIGURED_TELEGRAM + "/getUpdates")
    logger.info("discord says %r", {"Authorization": f"Bot {DISCORD}"})
    logger.debug("PATCH https://discord.com/api/v10/webhooks/900000000000000001/%s/messages/@original", INTERACTION)
    logger.debug("POST /api/v10/interactions/1234567890123/%s/callback", INTERACTION)
    try:
        raise RuntimeError(f"boom with {DISCORD} inside")
    except RuntimeError:
        logger.exception("unexpected error")


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_no_secret_survives_any_log_path(fmt, restore_root_logging):
    out = io.StringIO()
    configure_logging(level="DEBUG", fmt=fmt, secrets=[DISCORD, SEGMIND, TELEGRAM], stream=out)
    _log_everything(logging.getLogger("castbot.test.deep.child"))

    text = out.getvalue()
    for secret in (DISCORD, SEGMIND, TELEGRAM, UNCONFIGURED_TELEGRAM, "AAHdqTcvCH1vGWJx", "BBHdqTcvCH1vGWJx",
                   INTERACTION):
        assert secret not in text
    assert text.count(REDACTED) >= 7
    assert "/webhooks/900000000000000001/[REDACTED]/messages" in text
    assert "RuntimeError: boom with" in text  # the traceback is still there, only scrubbed
    assert "segmind key [REDACTED] in a header" in text


def test_json_format_is_one_object_per_line(restore_root_logging):
    out = io.StringIO()
    configure_logging(fmt="json", secrets=[SEGMIND], stream=out)
    logging.getLogger("castbot.x").info("job %s accepted for %s", "j1", SEGMIND)
    entries = [json.loads(line) for line in out.getvalue().splitlines()]
    assert entries == [
        {"ts": entries[0]["ts"], "level": "INFO", "logger": "castbot.x", "msg": "job j1 accepted for [REDACTED]"}
    ]


def test_text_format_is_human_readable_and_respects_level(restore_root_logging):
    out = io.StringIO()
    configure_logging(level="WARNING", stream=out)
    logging.getLogger("castbot.y").info("hidden")
    logging.getLogger("castbot.y").warning("shown %d", 3)
    lines = out.getvalue().splitlines()
    assert len(lines) == 1
    assert lines[0].endswith("WARNING castbot.y: shown 3")


def test_short_values_are_not_treated_as_secrets(restore_root_logging):
    out = io.StringIO()
    configure_logging(secrets=["a", ""], stream=out)
    logging.getLogger("castbot.z").warning("a cat sat")
    assert "a cat sat" in out.getvalue()


REAL_SHAPED_INTERACTION = "aW50ZXJhY3Rpb246MTMwMDAwMDAwMDAwMDAwMDAwMTpzZWNyZXRwYXJ0"
STORAGE = "https://segmind-inference-inputs.s3.amazonaws.com/77958595-84bb-4021-b38b-50d1a080d630-result"


def test_reply_references_and_storage_urls_are_redacted(restore_root_logging):
    out = io.StringIO()
    configure_logging(level="DEBUG", stream=out)
    log = logging.getLogger("castbot.refs")
    log.debug("reply_ref %s", json.dumps([1, REAL_SHAPED_INTERACTION, 333, 111, 1.5, 0, 0, ""]))
    log.debug("uploaded to %s for job %s", STORAGE, "j1")
    log.debug("payload %r", {"image": STORAGE + "?X-Amz-Signature=abc"})
    text = out.getvalue()
    assert REAL_SHAPED_INTERACTION not in text and "secretpart" not in text
    assert "77958595" not in text and "X-Amz-Signature" not in text
    assert "https://segmind-inference-inputs.s3.amazonaws.com/[REDACTED] for job j1" in text


def test_loggers_that_echo_sql_or_payloads_stay_at_info_under_debug(restore_root_logging):
    out = io.StringIO()
    configure_logging(level="DEBUG", stream=out)
    for name in ("aiosqlite", "asyncpg", "discord.webhook.async_", "telegram.ext.ExtBot", "httpx", "httpcore"):
        logging.getLogger(name).debug("executing INSERT INTO jobs VALUES (%s)", name)
        assert not logging.getLogger(name).isEnabledFor(logging.DEBUG), name
    logging.getLogger("castbot.ours").debug("our own debug line")
    assert "INSERT INTO" not in out.getvalue()
    assert "our own debug line" in out.getvalue()
