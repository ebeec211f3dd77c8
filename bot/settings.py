"""Settings from the environment and `.env`. Secrets are SecretStr: printing settings never shows them."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from core.pricing import Pricing, parse_weights


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    segmind_api_key: SecretStr | None = Field(default=None, alias="SEGMIND_API_KEY")
    segmind_api_url: str = Field(default="https://api.segmind.com", alias="SEGMIND_API_URL")
    segmind_upload_url: str = Field(default="https://workflows-api.segmind.com", alias="SEGMIND_UPLOAD_URL")
    data_dir: Path = Field(default=Path("./data"), alias="CASTBOT_DATA_DIR")

    telegram_token: SecretStr | None = Field(default=None, alias="TELEGRAM_TOKEN")
    telegram_api_url: str = Field(default="https://api.telegram.org", alias="TELEGRAM_API_URL")

    discord_token: SecretStr | None = Field(default=None, alias="DISCORD_TOKEN")
    discord_guild_id: int | None = Field(default=None, alias="DISCORD_GUILD_ID")
    discord_api_url: str = Field(default="https://discord.com/api/v10", alias="DISCORD_API_URL")
    discord_gateway_url: str = Field(default="wss://gateway.discord.gg/", alias="DISCORD_GATEWAY_URL")
    # Set for bots in thousands of servers: discord.py's AutoShardedClient with this many shards.
    discord_shard_count: int | None = Field(default=None, alias="DISCORD_SHARD_COUNT", ge=1)

    # The built-in simulator's speed factor: 1.0 is Segmind's real ~60 s per job.
    sim_speed: float = Field(default=20.0, alias="CASTBOT_SIM_SPEED", gt=0)
    http_port: int | None = Field(default=None, alias="CASTBOT_HTTP_PORT")
    http_host: str = Field(default="0.0.0.0", alias="CASTBOT_HTTP_HOST")  # 0.0.0.0 so a container's port maps
    log_format: str = Field(default="text", alias="CASTBOT_LOG_FORMAT")
    log_level: str = Field(default="INFO", alias="CASTBOT_LOG_LEVEL")

    # Engine limits
    max_in_flight: int = Field(default=16, alias="CASTBOT_MAX_IN_FLIGHT", ge=1)
    max_per_user: int = Field(default=2, alias="CASTBOT_MAX_PER_USER", ge=1)
    max_per_scope: int = Field(default=6, alias="CASTBOT_MAX_PER_SCOPE", ge=1)
    status_rps: float = Field(default=5.0, alias="CASTBOT_STATUS_RPS", gt=0)
    # per person, across communities: a burst of commands, then this many a minute (core/commands/ratelimit.py)
    command_burst: int = Field(default=8, alias="CASTBOT_COMMAND_BURST", ge=1)
    command_rate: float = Field(default=10.0, alias="CASTBOT_COMMAND_RATE", gt=0)
    default_daily_units: int = Field(default=40, alias="CASTBOT_DAILY_UNITS", ge=0)
    # Units per image at default settings, per model: "poses=2,sheet=3" or JSON. Unset models keep the catalog's;
    # a community's own weight can raise a price, never lower it (docs/operators.md, costs).
    model_units: str = Field(default="", alias="CASTBOT_MODEL_UNITS")
    # Operator limits above every community (core.limits; docs/operators.md has the values for a public bot).
    # Unset numbers limit nothing.
    person_daily_units: int | None = Field(default=None, alias="CASTBOT_PERSON_DAILY_UNITS", ge=0)
    daily_spend_ceiling: int | None = Field(default=None, alias="CASTBOT_DAILY_SPEND_CEILING", ge=0)
    max_community_daily_units: int | None = Field(default=None, alias="CASTBOT_MAX_COMMUNITY_DAILY_UNITS", ge=0)
    max_community_pool_units: int | None = Field(default=None, alias="CASTBOT_MAX_COMMUNITY_POOL_UNITS", ge=0)
    allowed_places: str | None = Field(default=None, alias="CASTBOT_ALLOWED_PLACES")  # "telegram:-100123,discord:456"
    allow_dms: bool = Field(default=True, alias="CASTBOT_ALLOW_DMS")  # only read when CASTBOT_ALLOWED_PLACES is set
    leave_unlisted: bool = Field(default=True, alias="CASTBOT_LEAVE_UNLISTED")
    operators: str = Field(default="", alias="CASTBOT_OPERATORS")  # "telegram:123,discord:456": admins everywhere
    # Days a finished job keeps its prompt, input photos and images (docs/privacy.md); 0 keeps them forever.
    retention_days: int = Field(default=30, alias="CASTBOT_RETENTION_DAYS", ge=0)
    # The operator's prompt blocklist (docs/moderation.md): one word or phrase a line, `re:` before a
    # pattern. It applies in every community, on top of the built-in minor-safety rule; no admin can lift it.
    blocklist_file: Path | None = Field(default=None, alias="CASTBOT_BLOCKLIST_FILE")

    # The image safety gate (core/moderation): which classifier checks outputs in SFW places ("auto": Open-NSFW
    # when the `safety` extra is installed; "open-nsfw"; "off"), the score that flags an image, and whether a
    # withheld job's units go back to its owner (Segmind charged castbot either way).
    safety_classifier: Literal["auto", "open-nsfw", "off"] = Field(default="auto", alias="CASTBOT_SAFETY_CLASSIFIER")
    safety_threshold: float = Field(default=0.7, alias="CASTBOT_SAFETY_THRESHOLD", gt=0, le=1)
    safety_refund: bool = Field(default=True, alias="CASTBOT_SAFETY_REFUND")

    @field_validator("model_units")
    @classmethod
    def _check_model_units(cls, value: str) -> str:
        parse_weights(value)  # a typo fails at start, naming the entry, not at the first job
        return value

    @property
    def pricing(self) -> Pricing:
        return Pricing(parse_weights(self.model_units))

    @property
    def uses_simulator(self) -> bool:
        return self.segmind_api_key is None or not self.segmind_api_key.get_secret_value()

    @property
    def db_path(self) -> Path:
        return self.data_dir / "castbot.sqlite3"

    def secrets(self) -> list[str]:
        """Every configured secret, for log redaction."""
        values = (self.segmind_api_key, self.telegram_token, self.discord_token)
        return [v.get_secret_value() for v in values if v is not None and v.get_secret_value()]
