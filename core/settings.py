"""Settings, read once from the environment (prefix ``MTEJA_``) and an optional ``.env`` file."""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from core.account_numbers import validate_prefix

# Safaricom's published addresses for Daraja callbacks (the default allow-list).
SAFARICOM_CALLBACK_IPS = ",".join(
    [
        "196.201.214.200",
        "196.201.214.206",
        "196.201.213.114",
        "196.201.214.207",
        "196.201.214.208",
        "196.201.213.44",
        "196.201.212.127",
        "196.201.212.138",
        "196.201.212.129",
        "196.201.212.136",
        "196.201.212.74",
        "196.201.212.69",
    ]
)


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
    # M-Pesa (Safaricom Daraja)
    mpesa_base_url: str = "https://sandbox.safaricom.co.ke"
    mpesa_consumer_key: str = ""
    mpesa_consumer_secret: str = ""
    mpesa_shortcode: str = ""
    mpesa_passkey: str = ""
    mpesa_transaction_type: str = "paybill"
    mpesa_till_number: str = ""
    mpesa_allowed_ips: str = SAFARICOM_CALLBACK_IPS
    public_url: str = "http://127.0.0.1:8000"
    callback_token: str = ""
    # Proxies whose X-Forwarded-For is believed (comma-separated addresses; "" = none).
    trusted_proxies: str = ""
    sms_backend: str = "outbox"

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

    @field_validator("mpesa_transaction_type")
    @classmethod
    def _paybill_or_till(cls, value: str) -> str:
        if value not in ("paybill", "till"):
            raise ValueError("must be 'paybill' or 'till'")
        return value

    @field_validator("sms_backend")
    @classmethod
    def _known_sms_backend(cls, value: str) -> str:
        if value not in ("outbox", "africastalking"):
            raise ValueError("must be 'outbox' or 'africastalking'")
        return value

    @property
    def zone(self) -> ZoneInfo:
        """The local time zone in which times are shown."""
        return ZoneInfo(self.timezone)
