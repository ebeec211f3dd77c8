"""Discord's runner: the script's text as slash commands and button presses through the fake Discord gateway,
into the REAL discord.py client and adapter, on the real app and fake clock.

A step's text is read with core's own parser, and the command object it gives is sent the way a Discord user
would say it: `/imagine --char Luna --n 2 on a beach` -> `/imagine prompt:"on a beach" character:Luna count:2`.
Where Discord cannot say a thing, the nearest real event is sent, and it is named here:
- `--bogus 1`, `--n two`: option names and values Discord's client would not send are sent raw through the
  gateway, as a client holding an older command set would; discord.py passes them through and core names them.
- a positional image: its asset says the slot (`image`, `pose_image`, `scene_image`); Discord has no album.
- `/admin ban @nobody_here`: Discord resolves every user option, so an unknown name can't be sent; the ban
  is sent without its (optional) user option, and core refuses it the same way.
- Delete pressed again after an allowed Delete removed the message: Discord would no longer show the button;
  the press is sent anyway, and Discord's Unknown Message for the second delete is expected.
- the Originals button: Discord posts the images themselves as files and has no such button
  (`SKIPPED_ON_DISCORD` leaves those presses out of the script).
The outcome (answer or refusal) is what the adapter's handler recorded for that interaction.
"""

from __future__ import annotations

import asyncio
from typing import Any

from adapters.discord.context import PHRASING
from core.commands import answers as a
from core.commands import types as c
from core.commands.parser import parse
from core.errors import UserError
from tests.conformance.harness import pass_time
from tests.conformance.script import ASSETS, Observed, Settle, Step, observed
from tests.discord.conftest import DiscordWorld, option, sub
from tests.fakes.discord_payloads import user_payload

GUILD = 222
USERS = {"owner": 1101, "admin": 1102, "other": 1103, "banned": 1104}
MANAGE_GUILD = str(1 << 5)
SLOTS = {"character": "image", "pose": "pose_image", "scene": "scene_image"}  # asset / role -> attachment option
REAL_TIMEOUT = 30.0
UNKNOWN_MESSAGE = 10008
SKIPPED_ON_DISCORD = (c.Originals,)


def discord_script(script: tuple[Step | Settle, ...]) -> tuple[Step | Settle, ...]:
    return tuple(s for s in script if not (isinstance(s, Step) and isinstance(s.command, SKIPPED_ON_DISCORD)))


def raw(name: str, value: str) -> dict[str, Any]:
    """An option as the gateway carries it: a number when it is one, else the text as typed."""
    return option(name, int(value), 4) if value.isdigit() else option(name, value)


class DiscordRunner:
    platform = "discord"
    scope_id = str(GUILD)

    def __init__(self, world: DiscordWorld) -> None:
        self.world = world
        self.simulator = world.app.simulator
        self.dc = world.dc
        self.results: dict[str, dict[str, Any]] = {}  # job id -> its result message, kept once seen

    def user_id(self, role: str) -> str:
        return str(USERS[role])

    def _where(self, role: str) -> dict[str, Any]:
        return {"user_id": USERS[role], "guild_id": GUILD,
                "permissions": MANAGE_GUILD if role == "admin" else "0"}

    async def run(self, step: Step) -> Observed:
        if isinstance(step.command, c.DeleteOutput) and step.command.ban:  # no button bans: /admin remove
            gone, sent = False, await self._send(step, step.command)
        elif step.command is not None:
            gone = self._gone(step.command)
            sent = await self._press(step.role, step.command)
        else:
            assert step.text is not None
            gone, sent = False, await self._send(step, parse(step.text).command)
        outcome = await self._outcome(sent)
        if gone and isinstance(outcome, a.OutputDeleted):
            await self._unknown_message()
        if isinstance(outcome, UserError):
            return observed(outcome, None)
        return observed(None, outcome)

    async def result_shown(self, job_id: str) -> bool:
        marker = f"cb:reroll:{job_id}"
        return any(marker in str(m.get("components")) for m in self.dc.messages.values())

    async def settle(self) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + REAL_TIMEOUT
        while any(not job.state.is_final for job in self.world.app.engine.active_jobs()):
            assert loop.time() < deadline, "jobs did not finish"
            await self.world.clock.advance(0.5)
            await asyncio.sleep(0.003)

    async def wait(self, seconds: float) -> None:
        await pass_time(self.world.clock, seconds)

    async def _outcome(self, sent: dict[str, Any]) -> Any:
        outcomes = self.world.adapter.handlers.outcomes  # type: ignore[union-attr]
        key = int(sent["id"])
        loop = asyncio.get_running_loop()
        deadline = loop.time() + REAL_TIMEOUT
        while key not in outcomes:
            assert loop.time() < deadline, f"no outcome for {sent['data']}"
            await asyncio.sleep(0.005)
        return outcomes[key]

    # --- slash commands -------------------------------------------------------------------------

    async def _send(self, step: Step, command: c.Command) -> dict[str, Any]:
        attachments = [self.dc.add_attachment(ASSETS[asset].read_bytes(), filename=f"{asset}.png")
                       for _, asset in step.images]
        images = [option(SLOTS[role or asset], att["id"], 11)
                  for (role, asset), att in zip(step.images, attachments, strict=True)]
        users = [user_payload(USERS[step.target], step.target)] if step.target else None
        name, options = self._options(command, images, step.target)
        return await self.dc.slash(name, options, attachments=attachments or None, users=users,
                                   **self._where(step.role))

    def _options(self, command: c.Command, images: list[dict[str, Any]],
                 target: str | None) -> tuple[str, list[dict[str, Any]]]:
        match command:
            case c.Generate():
                opts = [option(k, v) for k, v in (("prompt", command.prompt), ("character", command.character),
                                                  ("negative", command.negative), ("model", command.model)) if v]
                opts += [raw(PHRASING.option_names.get(k, k), v) for k, v in command.options.items()]
                return command.command, opts + images
            case c.CharacterSave(name=name, description=description, consent=consent):
                opts = [option("name", name), *images]
                opts += [option("description", description)] if description else []
                opts += [option("consent", True, 5)] if consent else []
                return "character", [sub("save", *opts)]
            case c.CharacterList(prefix=prefix, page=page):
                return "character", [sub("list", *([option("prefix", prefix)] if prefix else []),
                                         option("page", page, 4))]
            case c.CharacterRename(name=name, new_name=new_name):
                return "character", [sub("rename", option("name", name), option("new_name", new_name))]
            case c.CharacterDelete(name=name) | c.CharacterShow(name=name):
                return "character", [sub("delete" if isinstance(command, c.CharacterDelete) else "show",
                                         option("name", name))]
            case c.Quota():
                return "quota", []
            case c.History(page=page):
                return "history", [option("page", page, 4)]
            case c.Cancel(job_id=job_id):
                return "cancel", [option("job", job_id)] if job_id else []
            case c.AdminStats():
                return "admin", [sub("stats")]
            case c.AdminRating(rating=rating, flagged=flagged):
                return "admin", [sub("rating", *[option(k, v) for k, v in (("rating", rating), ("flagged", flagged))
                                                 if v])]
            case c.AdminBan() | c.AdminUnban():
                user = [option("user", str(USERS[target]), 6)] if target else []  # an unknown @name: none
                return "admin", [sub("ban" if isinstance(command, c.AdminBan) else "unban", *user)]
            case c.AdminQuota(daily=daily):
                return "admin", [sub("quota", option("daily_units", daily, 4))]
            case c.AdminFilter(action=action, value=value, pattern=pattern, page=page):
                opts = [option("pattern" if pattern else "word", value)] if value else []
                return "admin", [sub("filter", option("action", action), *opts, option("page", page, 4))]
            case c.AdminLog(since=since, page=page):
                opts = [option("user", str(USERS[target]), 6)] if target else []
                opts += [option("since", since)] if since else []
                return "admin", [sub("log", *opts, option("page", page, 4))]
            case c.DeleteOutput(job_id=job_id, ban=ban):
                return "admin", [sub("remove", option("job", job_id), option("ban", ban, 5))]
        raise AssertionError(f"the Discord runner has no slash form for {command!r}")

    # --- buttons --------------------------------------------------------------------------------

    async def _press(self, role: str, command: c.Command) -> dict[str, Any]:
        job_id: str = command.job_id  # type: ignore[union-attr]
        action = {c.DeleteOutput: "delete", c.SaveFromJob: "save", c.Report: "report"}.get(type(command))
        if isinstance(command, c.Reroll):
            action = "seed" if command.same_seed else "reroll"
        assert action is not None, command
        message = await self._result_message(job_id)
        data = {"custom_id": f"cb:{action}:{job_id}", "component_type": 2}
        # Pressed on the message as it was posted: one allowed Delete may already have removed it.
        payload = self.dc.interaction(3, data, message=message, **self._where(role))
        await self.dc.dispatch("INTERACTION_CREATE", payload)
        if not isinstance(command, c.SaveFromJob):
            return payload
        modal = await self.dc.wait_call("POST", f"/interactions/{payload['id']}/")
        if modal.json["type"] != 9:  # core refused before the dialog: the press's outcome is the answer
            return payload
        fields = [row["components"][0]["custom_id"] for row in modal.json["data"]["components"]]
        return await self.dc.submit_modal(modal.json["data"]["custom_id"],
                                          {fields[0]: command.name, fields[1]: str(command.index + 1)},
                                          **self._where(role))

    def _gone(self, command: c.Command) -> bool:
        """A Delete pressed on a message an earlier allowed Delete removed (Discord would no longer show it)."""
        message = self.results.get(getattr(command, "job_id", ""))
        return isinstance(command, c.DeleteOutput) and message is not None and message["id"] not in self.dc.messages

    async def _unknown_message(self) -> None:
        """Deleting it again, castbot gets Discord's Unknown Message and takes the message as deleted."""
        refusal = await self.dc.wait_for(lambda: next(
            (r for r in self.dc.ledger.refusals if r.code == UNKNOWN_MESSAGE and not r.expected), None))
        refusal.expected = True

    async def _result_message(self, job_id: str) -> dict[str, Any]:
        if job_id not in self.results:
            marker = f"cb:reroll:{job_id}"
            self.results[job_id] = await self.world.until(
                lambda: next((m for m in self.dc.messages.values() if marker in str(m.get("components"))), None),
                what=f"the result message of {job_id}")
        return self.results[job_id]
