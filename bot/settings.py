"""Settings from the environment and `.env`. Secrets are SecretStr: printing settings never shows them."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


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
    default_daily_units: int = Field(default=40, alias="CASTBOT_DAILY_UNITS", ge=0)
    # Days a finished job keeps its prompt, input photos and images (docs/privacy.md); 0 keeps them forever.
    retention_days: int = Field(default=30, alias="CASTBOT_RETENTION_DAYS", ge=0)
    # The operator's prompt blocklist (docs/moderation-rules.md): one word or phrase a line, `re:` before a
    # pattern. It applies in every community, on top of the built-in minor-safety rule; no admin can lift it.
    blocklist_file: Path | None = Field(default=None, alias="CASTBOT_BLOCKLIST_FILE")

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
