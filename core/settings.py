"""Settings, read once from the environment (prefix ``MTEJA_``) and an optional ``.env`` file."""

from __future__ import annotations

import re
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import field_validator, model_validator
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
    # The job queue's name, which also prefixes the router locks' Redis keys: installations
    # sharing one Redis server need different names.
    queue_name: str = "mteja"
    secret_key: str = ""
    timezone: str = "Africa/Nairobi"
    account_prefix: str = "MTJ"
    isp_name: str = "mteja ISP"
    support_phone: str = ""
    # Printed on invoices and receipts, under the ISP's name.
    isp_address: str = ""
    isp_email: str = ""
    default_region: str = "KE"
    # Routers: move expired customers to this profile instead of disabling them ("" = disable).
    expired_profile: str = ""
    reconcile_minutes: int = 10
    router_connect_timeout: float = 5.0
    router_command_timeout: float = 30.0
    lock_dir: str = ".mteja-locks"
    # Monitoring: /metrics answers other addresses than loopback only with this bearer token
    # ("" = loopback only); the processes' metric files live in metrics_dir.
    metrics_token: str = ""
    metrics_dir: str = ".mteja-metrics"
    # Logs: "text" for people, "json" (one object per line) for log shippers.
    log_format: Literal["text", "json"] = "text"
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
    # Africa's Talking (SMS out, and the USSD/SMS callbacks in)
    at_username: str = "sandbox"
    at_api_key: str = ""
    at_sender_id: str = ""
    # "" = the SDK's own (api.africastalking.com, or the sandbox for username "sandbox").
    at_base_url: str = ""
    # Where Africa's Talking callbacks may come from ("*" = anywhere; it publishes no list).
    at_allowed_ips: str = "*"
    # The secret last segment of the callback paths (/ussd/<token>; "" = the bare, open paths).
    at_callback_token: str = ""
    # Expiry reminders: days before expiry, and the local hours [start, end) they may go out.
    reminder_days: str = "3,1"
    reminder_start_hour: int = 8
    reminder_end_hour: int = 20
    # "Expiring" in lists and on cards: active, with paid time ending within this many days.
    expiring_days: int = 3
    # Retention (``mteja prune``, and daily): days each kind is kept; 0 = keep for ever.
    retention_sync_runs_days: int = 30
    retention_delivery_reports_days: int = 90
    retention_sms_bodies_days: int = 180
    retention_usage_readings_days: int = 35

    # Telegram staff bot (see docs/staff-commands.md)
    telegram_token: str = ""
    # The Bot API root as python-telegram-bot's base_url takes it (a self-hosted server works).
    telegram_base_url: str = "https://api.telegram.org/bot"
    # Where staff alerts go ("" = only the log); groups have negative ids.
    telegram_staff_chat_id: str = ""
    # "" = no webhook; else updates are accepted at POST /telegram/{secret}.
    telegram_webhook_secret: str = ""

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @field_validator("queue_name")
    @classmethod
    def _queue_name(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Za-z0-9_.-]{1,64}", value):
            raise ValueError("use 1 to 64 letters, digits, '_', '.' and '-'")
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

    @field_validator("reminder_days")
    @classmethod
    def _reminder_days(cls, value: str) -> str:
        parse_reminder_days(value)
        return value

    @field_validator("reminder_start_hour", "reminder_end_hour")
    @classmethod
    def _an_hour(cls, value: int) -> int:
        if not 0 <= value <= 24:
            raise ValueError("must be an hour from 0 to 24")
        return value

    @field_validator("expiring_days")
    @classmethod
    def _expiring_days(cls, value: int) -> int:
        if not 1 <= value <= 60:
            raise ValueError("must be a whole number of days from 1 to 60")
        return value

    @field_validator(
        "retention_sync_runs_days",
        "retention_delivery_reports_days",
        "retention_sms_bodies_days",
        "retention_usage_readings_days",
    )
    @classmethod
    def _retention_days(cls, value: int) -> int:
        if not 0 <= value <= 36_500:
            raise ValueError("must be a whole number of days from 0 (keep for ever) to 36500")
        return value

    @model_validator(mode="after")
    def _reminders_by_day(self) -> Settings:
        if self.reminder_start_hour >= self.reminder_end_hour:
            raise ValueError("MTEJA_REMINDER_START_HOUR must be before MTEJA_REMINDER_END_HOUR")
        return self

    @field_validator("telegram_staff_chat_id")
    @classmethod
    def _chat_id(cls, value: str) -> str:
        if value.strip() and not value.strip().lstrip("-").isdigit():
            raise ValueError("a Telegram chat id is a whole number (groups are negative)")
        return value.strip()

    @field_validator("telegram_webhook_secret", "at_callback_token")
    @classmethod
    def _url_safe_secret(cls, value: str) -> str:
        # Telegram's secret_token allows 1-256 of A-Z, a-z, 0-9, _ and -; the Africa's Talking
        # token is one path segment that needs no escaping: the same alphabet fits both.
        if value and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", value):
            raise ValueError("use 1 to 256 letters, digits, _ and -")
        return value

    @property
    def telegram_staff_chat(self) -> int | None:
        """The staff chat id, or None when alerts only go to the log."""
        return int(self.telegram_staff_chat_id) if self.telegram_staff_chat_id else None

    @property
    def reminder_offsets_days(self) -> tuple[int, ...]:
        """The reminder days, largest first (``(3, 1)``)."""
        return parse_reminder_days(self.reminder_days)

    @property
    def zone(self) -> ZoneInfo:
        """The local time zone in which times are shown."""
        return ZoneInfo(self.timezone)


def parse_reminder_days(text: str) -> tuple[int, ...]:
    """``"3,1"`` → ``(3, 1)``: distinct whole days from 1 to 60, largest first; ``""`` = none."""
    days: set[int] = set()
    for part in text.split(","):
        if not part.strip():
            continue
        if not part.strip().isdigit() or not 1 <= int(part) <= 60:
            raise ValueError(f"reminder days are whole days from 1 to 60, not {part.strip()!r}")
        days.add(int(part))
    return tuple(sorted(days, reverse=True))
