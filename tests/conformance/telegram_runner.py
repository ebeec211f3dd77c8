"""Telegram's runner: one Telegram user per role in one supergroup, the real PTB adapter, the fake Bot API.

Text is sent as a message (the caption of the photo, or of the album, when a step attaches images); a
button is pressed on the job's real result message. Users are named the Telegram way: a ban is a reply
to the user's message, an unban names the @username castbot saw them post under. Saving a job's image
under a chosen name has no button (the button picks a placeholder name), so that step is typed:
`/character save NAME --job ID --index 1`. The outcome is what the adapter noted for that one event.
"""

from __future__ import annotations

import shlex

from adapters.telegram.adapter import Outcome
from adapters.telegram.buttons import Action
from core.commands import types as c
from tests.conformance.harness import pass_time
from tests.conformance.script import ASSETS, Observed, Step, observed
from tests.telegram.conftest import TelegramWorld

GROUP = -7001
USERS = {"owner": 7101, "admin": 7102, "other": 7103, "banned": 7104}


class TelegramRunner:
    platform = "telegram"
    scope_id = str(GROUP)

    def __init__(self, world: TelegramWorld) -> None:
        self._world = world
        self.simulator = world.app.simulator
        self._results: dict[str, dict] = {}  # job id -> its result message (kept: a delete removes it)
        world.tg.admins[GROUP] = [USERS["admin"]]

    def user_id(self, role: str) -> str:
        return str(USERS[role])

    async def run(self, step: Step) -> Observed:
        if isinstance(step.command, c.SaveFromJob):
            name = shlex.quote(step.command.name)
            text = f"/character save {name} --job {step.command.job_id} --index {step.command.index + 1}"
            return await self._send(step.role, text, ())
        if isinstance(step.command, c.DeleteOutput) and step.command.ban:  # no button bans: the admin types it
            return await self._send(step.role, f"/admin remove {step.command.job_id} --ban", ())
        if step.command is not None:
            return await self._press(step.role, step.command)
        assert step.text is not None
        return await self._send(step.role, step.text, step.images, step.target)

    async def _send(self, role: str, text: str, images: tuple[tuple[str | None, str], ...],
                    target: str | None = None) -> Observed:
        tg, uid = self._world.tg, USERS[role]
        extra = {}
        if target is not None and text.startswith("/admin log"):
            text += f" {USERS[target]}"  # by numeric id
        elif target is not None and text.split()[-1] == "unban":
            text += f" @user{USERS[target]}"  # seen: they posted here (the fake's usernames are user<ID>)
        elif target is not None:
            extra["reply_to_message"] = tg.send_text(GROUP, USERS[target], "hello")
        photos = [ASSETS[asset].read_bytes() for _, asset in images]
        if len(photos) > 1:
            sent = tg.send_album(GROUP, uid, photos, caption=text)[0]
        elif photos:
            sent = tg.send_photo(GROUP, uid, photos[0], caption=text, **extra)
        else:
            sent = tg.send_text(GROUP, uid, text, **extra)
        return _observed(await self._outcome(f"telegram:{GROUP}:{sent['message_id']}"))

    async def _press(self, role: str, command: c.Command) -> Observed:
        action, job_id = _button(command)
        result = await self._result(job_id)
        data = next(b["callback_data"] for row in result["reply_markup"]["inline_keyboard"] for b in row
                    if b["callback_data"].startswith(f"{action}:"))
        if isinstance(command, c.DeleteOutput):
            # The script presses Delete again on a message an allowed press already removed (on Telegram the
            # buttons go with the message, so only a script can); castbot's deleteMessage then meets "message to
            # delete not found", which it takes as done.
            self._world.tg.allow_refusal("message to delete not found")
        query_id = self._world.tg.press(USERS[role], result, data)
        return _observed(await self._outcome(f"cb:{query_id}"))

    async def _result(self, job_id: str) -> dict:
        """The message carrying the job's buttons, as it was delivered."""
        if job_id not in self._results:
            await self._world.until(lambda: self._find(job_id) is not None, what=f"result message of {job_id}")
            self._results[job_id] = self._find(job_id)  # type: ignore[assignment]
        return self._results[job_id]

    def _find(self, job_id: str) -> dict | None:
        for message in self._world.tg.bot_messages(GROUP):
            rows = message.get("reply_markup", {}).get("inline_keyboard", [])
            if any(b.get("callback_data") == f"{Action.REROLL}:{job_id}" for row in rows for b in row):
                return message
        return None

    async def result_shown(self, job_id: str) -> bool:
        return self._find(job_id) is not None

    async def _outcome(self, key: str) -> Outcome:
        outcomes = self._world.adapter.outcomes
        await self._world.until(lambda: key in outcomes, what=f"the outcome of {key}")
        return outcomes[key]

    async def settle(self) -> None:
        engine = self._world.app.engine
        await self._world.until(lambda: all(job.state.is_final for job in engine.active_jobs()), step=0.5,
                                what="every job finished")

    async def wait(self, seconds: float) -> None:
        await pass_time(self._world.clock, seconds)


def _button(command: c.Command) -> tuple[Action, str]:
    match command:
        case c.Reroll(job_id=job_id, same_seed=same):
            return (Action.SAME_SEED if same else Action.REROLL), job_id
        case c.Originals(job_id=job_id):
            return Action.DOCUMENT, job_id
        case c.DeleteOutput(job_id=job_id):
            return Action.DELETE, job_id
        case c.Report(job_id=job_id):
            return Action.REPORT, job_id
        case c.Cancel(job_id=job_id) if job_id:
            return Action.CANCEL, job_id
    raise ValueError(f"no Telegram button for {command!r}")


def _observed(outcome: Outcome) -> Observed:
    return observed(outcome.error, outcome.answer)
