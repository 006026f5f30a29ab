"""Helpers for tests and benchmarks: a ready CoreServices on any database URL."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Engine

from core.clock import Clock, FrozenClock
from core.crypto import SecretBox, new_secret_key
from core.db import make_engine, make_read_session_factory, make_session_factory, upgrade_to_head
from core.models import Base
from core.ports import EventDispatcher, RecordingDispatcher
from core.unit_of_work import CoreConfig, CoreServices

TEST_EPOCH = datetime(2026, 11, 22, 9, 0, 0, tzinfo=UTC)


def services_for(
    engine: Engine,
    *,
    clock: Clock | None = None,
    dispatcher: EventDispatcher | None = None,
    config: CoreConfig | None = None,
    secret_key: str | None = None,
) -> CoreServices:
    """CoreServices on ``engine``; a frozen clock and a recording dispatcher by default."""
    return CoreServices(
        session_factory=make_session_factory(engine),
        clock=clock or FrozenClock(TEST_EPOCH),
        cipher=SecretBox(secret_key or new_secret_key()),
        config=config or CoreConfig(),
        dispatcher=dispatcher or RecordingDispatcher(),
        read_session_factory=make_read_session_factory(engine),
    )


def in_memory_engine() -> Engine:
    """A private in-memory SQLite database with the schema created from the models."""
    from sqlalchemy.pool import StaticPool

    engine = make_engine("sqlite://", poolclass=StaticPool)
    Base.metadata.create_all(engine)
    return engine


def migrated_engine(url: str) -> Engine:
    """An engine on ``url`` after running every migration."""
    upgrade_to_head(url)
    return make_engine(url)
