"""Settings, read once from the environment (prefix ``MTEJA_``) and an optional ``.env`` file."""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from core.account_numbers import validate_prefix


class Settings(BaseSettings):
    """Every setting mteja reads. Adapters receive the parts they need from the composition root."""

    model_config = SettingsConfigDict(
        env_prefix="MTEJA_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    database_url: str = "sqlite:///mteja.db"
    redis_url: str = ""
    huey_path: str = "mteja-queue.db"
    secret_key: str = ""
    timezone: str = "Africa/Nairobi"
    account_prefix: str = "MTJ"
    isp_name: str = "mteja ISP"
    support_phone: str = ""
    default_region: str = "KE"
    # Routers: move expired customers to this profile instead of disabling them ("" = disable).
    expired_profile: str = ""
    reconcile_minutes: int = 10
    router_connect_timeout: float = 5.0
    router_command_timeout: float = 30.0
    lock_dir: str = ".mteja-locks"

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @field_validator("account_prefix")
    @classmethod
    def _short_prefix(cls, value: str) -> str:
        return validate_prefix(value)

    @property
    def zone(self) -> ZoneInfo:
        """The local time zone in which times are shown."""
        return ZoneInfo(self.timezone)
