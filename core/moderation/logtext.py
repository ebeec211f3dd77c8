"""The words of /admin log, a removal and a report, plain text: each adapter escapes them for its markup.

They live once here because an admin must read the same log on every platform. Prompts appear only in
the log's lines, which adapters show to the asking admin alone.
"""

from __future__ import annotations

import time

from core.commands import answers as a

PROMPT_CHARS = 120  # a log line shows the start of a prompt; the CSV export has it whole
REPORTED = "Reported to the admins. Thank you."
_EVENT_WORDS = {
    "report": "reported", "output_deleted": "result removed", "ban": "banned", "prompt_blocked": "prompt refused",
    "image_withheld": "image withheld",
}


def when(at: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.gmtime(at))


def _clip(text: str, limit: int) -> str:
    text = " ".join(text.split())  # one line per entry, whatever the prompt held
    return text if len(text) <= limit else text[: limit - 1] + "…"


def log_line(entry: a.LogEntry) -> str:
    """`2026-12-02 10:31 · job 1a2b3c4d · Alice (7101) in -7001 · poses · delivered · “a knight”`."""
    if entry.kind == "job":
        who = f"{_clip(entry.user_name, 40)} ({entry.user_id})" if entry.user_name else entry.user_id
        parts = [f"job {entry.job_id[:8]}", f"{who} in {entry.chat_id}" if entry.chat_id else who, entry.model,
                 _clip(entry.outcome, 80), f"“{_clip(entry.prompt, PROMPT_CHARS)}”" if entry.prompt else ""]
    else:
        parts = [_EVENT_WORDS.get(entry.kind, entry.kind), f"job {entry.job_id[:8]}" if entry.job_id else "",
                 f"about {entry.user_id}" if entry.user_id else "", f"by {entry.actor_id}" if entry.actor_id else "",
                 _clip(entry.outcome, 120)]
    return " · ".join([when(entry.at), *(p for p in parts if p)])


def log_lines(page: a.LogPage, *, next_page: str) -> list[str]:
    """The page's lines, newest first; `next_page` is the platform's way to ask for page N+1 ("{page}")."""
    if not page.entries:
        return ["Nothing in the log here yet." if page.page == 1 else f"No page {page.page} of the log."]
    scope = f" of {page.user_id}" if page.user_id else ""
    since = f" since {page.since}" if page.since else ""
    lines = [f"Log{scope}{since}, newest first" + (f" (page {page.page})" if page.page > 1 else "") + ":"]
    lines += [log_line(entry) for entry in page.entries]
    if page.has_more:
        lines.append("More: " + next_page.format(page=page.page + 1))
    return lines


def text_next_page(page: a.LogPage) -> str:
    """The typed form of the next page (Telegram, console): the same filters, one page on."""
    user = f" {page.user_id}" if page.user_id else ""
    since = f" --since {page.since}" if page.since else ""
    return f"/admin log{user}{since} --page {{page}}"


def removed_text(answer: a.OutputDeleted) -> str:
    messages = f" ({answer.messages} message(s) deleted)" if answer.messages else ""
    left = (f" {answer.left} message(s) could not be deleted (already gone, or too old for the platform to let "
            "castbot delete them): remove them by hand." if answer.left else "")
    ban = f" Its author {answer.banned_user} is now banned here." if answer.banned_user else ""
    return f"Removed the images of job {answer.job_id}{messages}.{left}{ban}"
