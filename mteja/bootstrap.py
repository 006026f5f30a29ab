"""Building the running system from settings."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine

from core.clock import SystemClock
from core.crypto import SecretBox
from core.db import (
    current_revision,
    make_engine,
    make_read_session_factory,
    make_session_factory,
)
from core.ports import EventDispatcher, RecordingDispatcher
from core.settings import Settings
from core.unit_of_work import CoreConfig, CoreServices


class NotInitialized(Exception):
    """The database has no schema yet."""


@dataclass
class System:
    """What a process role needs: settings, the engine and core's services."""

    settings: Settings
    engine: Engine
    services: CoreServices

    def close(self) -> None:
        self.engine.dispose()


def core_config(settings: Settings) -> CoreConfig:
    return CoreConfig(
        account_prefix=settings.account_prefix,
        timezone=settings.zone,
        default_region=settings.default_region,
        isp_name=settings.isp_name,
        support_phone=settings.support_phone,
        isp_address=settings.isp_address,
        isp_email=settings.isp_email,
        expiring_days=settings.expiring_days,
        # Subscribers are told to pay this paybill. A Buy Goods till has no account number to
        # quote, so with a till (or no M-Pesa) the messages say nothing about a paybill.
        paybill_number=settings.mpesa_shortcode
        if settings.mpesa_transaction_type == "paybill"
        else "",
    )


def build_system(
    settings: Settings,
    dispatcher: EventDispatcher | None = None,
    *,
    require_schema: bool = True,
) -> System:
    """Engine and services for ``settings``; NotInitialized if the schema is missing."""
    cipher = SecretBox(settings.secret_key)
    engine = make_engine(settings.database_url)
    if require_schema and current_revision(engine) is None:
        engine.dispose()
        raise NotInitialized("the database is empty: run 'mteja init' first")
    services = CoreServices(
        session_factory=make_session_factory(engine),
        clock=SystemClock(),
        cipher=cipher,
        config=core_config(settings),
        dispatcher=dispatcher or RecordingDispatcher(),
        read_session_factory=make_read_session_factory(engine),
    )
    return System(settings, engine, services)
