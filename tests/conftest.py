"""Shared fixtures: clocks, services on in-memory SQLite (unit tier) and on real databases.

Integration tests take ``database_url``, parametrized over a SQLite file and PostgreSQL. PostgreSQL
tests skip with a reason when no server answers, except in CI (CI=true), where they fail.
"""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import redis
from sqlalchemy import Engine, create_engine, text

from core.actors import Actor
from core.clock import FrozenClock
from core.db import make_engine, upgrade_to_head
from core.models import Base
from core.ports import RecordingDispatcher
from core.testing import TEST_EPOCH, in_memory_engine, services_for
from core.unit_of_work import CoreServices

POSTGRES_ADMIN_URL = os.environ.get(
    "MTEJA_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


# Loggers a process's configure_logging takes over (mteja.logs).
_CONFIGURED_LOGGERS = ("", "uvicorn", "uvicorn.error", "uvicorn.access", "huey")


@pytest.fixture(autouse=True)
def _logging_as_it_was() -> Iterator[None]:
    """A command run in-process (``mteja worker``, ``mteja bot``) configures logging for the
    whole process; put it back after each test so the next one logs as pytest set it up."""
    saved = {
        name: (list(logger.handlers), logger.level, logger.propagate)
        for name in _CONFIGURED_LOGGERS
        for logger in [logging.getLogger(name)]
    }
    yield
    for name, (handlers, level, propagate) in saved.items():
        logger = logging.getLogger(name)
        logger.handlers[:] = handlers
        logger.setLevel(level)
        logger.propagate = propagate


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(TEST_EPOCH)


@pytest.fixture
def dispatcher() -> RecordingDispatcher:
    return RecordingDispatcher()


@pytest.fixture
def staff() -> Actor:
    """An owner acting from the command line."""
    return Actor.cli()


@pytest.fixture
def services(clock: FrozenClock, dispatcher: RecordingDispatcher) -> Iterator[CoreServices]:
    """Core services on a private in-memory SQLite database (no files, no network)."""
    engine = in_memory_engine()
    yield services_for(engine, clock=clock, dispatcher=dispatcher)
    engine.dispose()


def _postgres_available() -> str | None:
    """None if PostgreSQL answers, else why not."""
    try:
        engine = create_engine(POSTGRES_ADMIN_URL)
        with engine.connect() as connection:
            connection.execute(text("select 1"))
        engine.dispose()
    except Exception as exc:
        return f"PostgreSQL at {POSTGRES_ADMIN_URL} is not reachable: {exc.__class__.__name__}"
    return None


# The tests' own Redis database number: their keys never meet a deployment's.
TEST_REDIS_URL = os.environ.get("MTEJA_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def redis_for_tests() -> redis.Redis:
    """A client of TEST_REDIS_URL; when Redis is unreachable the test fails in CI (which must
    run the Redis tests) and is skipped elsewhere."""
    client = redis.Redis.from_url(TEST_REDIS_URL, socket_timeout=5)
    try:
        client.ping()
    except redis.RedisError as exc:
        client.close()
        reason = f"Redis at {TEST_REDIS_URL} is not reachable: {exc.__class__.__name__}"
        if IN_CI:
            pytest.fail(f"{reason} (CI must run the Redis tests)")
        pytest.skip(reason)
    return client


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    """A fresh PostgreSQL database for this test run, dropped at the end."""
    reason = _postgres_available()
    if reason is not None:
        if IN_CI:
            pytest.fail(f"{reason} (CI must run the PostgreSQL tests)")
        pytest.skip(reason)
    with scratch_postgres("mteja_test") as url:
        yield url


@contextmanager
def scratch_postgres(prefix: str) -> Iterator[str]:
    """The URL of an empty PostgreSQL database named ``prefix`` and a random suffix, created on
    the test server and dropped afterwards."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        yield POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


def _reset_postgres(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: os.PathLike[str]) -> Iterator[str]:
    """An empty database (no tables): a SQLite file, or a clean PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/mteja.db"
        return
    url = request.getfixturevalue("postgres_database")
    _reset_postgres(url)
    yield url


@pytest.fixture
def migrated_engine(database_url: str) -> Iterator[Engine]:
    """An engine on a database migrated to head."""
    upgrade_to_head(database_url)
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def db_services(
    migrated_engine: Engine, clock: FrozenClock, dispatcher: RecordingDispatcher
) -> CoreServices:
    """Core services on a real, migrated database (SQLite file or PostgreSQL)."""
    return services_for(migrated_engine, clock=clock, dispatcher=dispatcher)


__all__ = ["Base"]
