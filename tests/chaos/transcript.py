"""Post-mortem files a `--keep` run leaves behind: every Bot API call, every command offered, the kills.

Times are the harness's monotonic clock in every file, so a command, its replies and the kills around it
line up by eye.
"""

from __future__ import annotations

from pathlib import Path

from tests.chaos.fake_telegram import ChaosTelegramServer
from tests.chaos.scenario import Play, bot_replies


def dump_calls(fake: ChaosTelegramServer, path: Path) -> None:
    """Every Bot API call, one line each, for reading a violation after the run."""
    lines = []
    for c in fake.calls:
        if c.method == "getUpdates":
            continue
        text = str(c.params.get("text") or c.params.get("caption") or "")[:60].replace("\n", " | ")
        lines.append(f"{c.at:.3f} {c.status} {c.method} chat={c.chat_id} msg={c.params.get('message_id')} "
                     f"reply={(c.params.get('reply_parameters') or {}).get('message_id')} {text!r}")
    path.write_text("\n".join(lines) + "\n")


def dump_commands(fake: ChaosTelegramServer, play: Play, kills: list[float], path: Path) -> None:
    """Every command the users offered (when, where, which message id) with its replies, then the kills."""
    lines = []
    for command in play.commands:
        key = (command.chat_id, command.message["message_id"])
        replies = [(fake.sent_at.get((command.chat_id, m["message_id"]), 0.0), m["message_id"])
                   for m in bot_replies(fake, *key)]
        answered = " ".join(f"{mid}@{at:.3f}" for at, mid in sorted(replies)) or "UNANSWERED"
        lines.append(f"{fake.offered.get(key, 0.0):.3f} chat={key[0]} msg={key[1]} user={command.user_id} "
                     f"{command.text[:50]!r} -> {answered}")
    lines += [f"{k:.3f} SIGKILL" for k in kills]
    path.write_text("\n".join(sorted(lines, key=lambda line: float(line.split()[0]))) + "\n")
