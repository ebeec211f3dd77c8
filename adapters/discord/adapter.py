"""The Discord adapter's lifecycle: log in, build the command tree, sync it only when it changed, connect.

`DiscordAdapter(service, token=..., api_url=..., gateway_url=...)` then `await start()` / `await stop()`.
No privileged intents: slash commands and buttons arrive as interactions, which need none.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

import discord
import discord.gateway
import discord.http
import httpx
import yarl
from discord import app_commands

from adapters.discord.actions import ButtonActions
from adapters.discord.attachments import allowed_hosts
from adapters.discord.commands import build_tree
from adapters.discord.context import PLATFORM, report_error
from adapters.discord.handlers import CommandHandlers
from adapters.discord.messenger import DiscordMessenger
from adapters.discord.views import JobButton
from core.clock import Clock, SystemClock

if TYPE_CHECKING:
    from core.service import CastService

log = logging.getLogger(__name__)

READY_TIMEOUT = 60.0
_SYNC_KEYS = ("name", "description", "type", "options", "required", "choices", "value", "min_value", "max_value",
              "min_length", "max_length", "autocomplete", "default_member_permissions", "contexts",
              "channel_types", "nsfw")


def apply_endpoints(api_url: str, gateway_url: str) -> None:
    """Point discord.py at an API root and gateway (a proxy or the tests' fake). Process-wide, by design
    of discord.py: these are class attributes, so this is the one place that sets them."""
    discord.http.Route.BASE = api_url.rstrip("/")
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway_url)


def canonical(commands: list[dict[str, Any]]) -> list[Any]:
    """A command set reduced to what decides its behaviour, so ours and Discord's compare equal."""
    def strip(value: Any) -> Any:
        if isinstance(value, dict):
            kept = {k: strip(v) for k, v in sorted(value.items())
                    if k in _SYNC_KEYS and v not in (None, False, [], {}, "")}
            if "default_member_permissions" in kept:  # discord.py sends an int, Discord answers a string
                kept["default_member_permissions"] = str(kept["default_member_permissions"])
            return kept
        if isinstance(value, list):
            return [strip(v) for v in value]
        return value
    return sorted((strip(c) for c in commands), key=lambda c: c.get("name", ""))


class CastClient(discord.Client):
    """A discord.py client whose setup_hook hands over to the adapter (tree, views, sync)."""

    def __init__(self, adapter: DiscordAdapter, **options: Any) -> None:
        # Nothing castbot sends pings anyone unless a send names its user: prompts and names are user text,
        # and "@everyone <@&role>" in a prompt must stay text.
        super().__init__(intents=discord.Intents(guilds=True), allowed_mentions=discord.AllowedMentions.none(),
                         **options)
        self.adapter = adapter
        self.tree: app_commands.CommandTree[Any] = app_commands.CommandTree(self)
        self.actions: ButtonActions | None = None

    async def setup_hook(self) -> None:
        await self.adapter.setup(self)


class ShardedCastClient(CastClient, discord.AutoShardedClient):
    """Same client, sharded: for bots in thousands of servers."""


class DiscordAdapter:
    def __init__(
        self, service: CastService, *, token: str, api_url: str, gateway_url: str, guild_id: int | None = None,
        http: httpx.AsyncClient | None = None, clock: Clock | None = None, shard_count: int | None = None,
        guild_ready_timeout: float = 2.0,
    ) -> None:
        self.service = service
        self._token = token
        self.api_url = api_url
        self.gateway_url = gateway_url
        self.guild_id = guild_id
        self.clock = clock or SystemClock()
        self._own_http = http is None
        self.http = http or httpx.AsyncClient(timeout=httpx.Timeout(30.0, connect=10.0))
        cls = ShardedCastClient if shard_count else CastClient
        sharding = {"shard_count": shard_count} if shard_count else {}
        self.client: CastClient = cls(self, guild_ready_timeout=guild_ready_timeout, **sharding)
        self.messenger = DiscordMessenger(self.client, clock=self.clock, on_shown=service.rebind_reply)
        self.synced = False  # whether the last start had to sync the command set
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        apply_endpoints(self.api_url, self.gateway_url)
        await self.client.login(self._token)  # runs setup() through the client's setup_hook
        self._task = asyncio.create_task(self.client.connect(reconnect=True), name="discord-gateway")
        ready = asyncio.create_task(self.client.wait_until_ready())
        done, _ = await asyncio.wait({ready, self._task}, timeout=READY_TIMEOUT, return_when=asyncio.FIRST_COMPLETED)
        if ready not in done:
            ready.cancel()
            failed = self._task.done() and not self._task.cancelled()
            cause = self._task.exception() if failed else None
            await self.stop()
            raise RuntimeError("Discord gateway did not become ready; check DISCORD_GATEWAY_URL") from cause
        log.info("discord: connected as %s", self.client.user)

    async def stop(self) -> None:
        await self.messenger.close()
        await self.client.close()
        if self._task is not None:
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        if self._own_http:
            await self.http.aclose()

    async def setup(self, client: CastClient) -> None:
        handlers = CommandHandlers(self.service, self.messenger, clock=self.clock, http=self.http,
                                   hosts=allowed_hosts(self.api_url))
        build_tree(client.tree, handlers)
        client.tree.on_error = report_error  # type: ignore[method-assign]
        client.actions = ButtonActions(self.service, self.messenger, clock=self.clock)
        client.add_dynamic_items(JobButton)  # buttons of messages sent before this start keep working
        self.service.register_messenger(PLATFORM, self.messenger)
        await self.sync_commands(client)

    async def sync_commands(self, client: CastClient) -> None:
        """Sync to the dev guild (DISCORD_GUILD_ID) or globally, only when the command set changed."""
        guild = discord.Object(self.guild_id) if self.guild_id else None
        if guild is not None:
            client.tree.copy_global_to(guild=guild)
        ours = [cmd.to_dict(client.tree) for cmd in client.tree.get_commands(guild=guild)]
        app_id = client.application_id
        if guild is not None:
            theirs = await client.http.get_guild_commands(app_id, guild.id)  # type: ignore[arg-type]
        else:
            theirs = await client.http.get_global_commands(app_id)  # type: ignore[arg-type]
        self.synced = canonical(ours) != canonical(list(theirs))  # type: ignore[arg-type]
        if self.synced:
            await client.tree.sync(guild=guild)
            log.info("discord: synced %d commands %s", len(ours), f"to guild {guild.id}" if guild else "globally")
        else:
            log.info("discord: command set unchanged, not syncing")
