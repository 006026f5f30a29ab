"""/healthz is liveness only; /readyz checks the database and the queue (503) and reports the
routers (never 503 for them); every request carries a correlation id into the logs, which can
be JSON lines."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine
from starlette.testclient import TestClient

from core.actors import Actor
from core.models import Router
from core.settings import Settings
from core.testing import services_for
from core.unit_of_work import CoreServices
from core.usecases.network import RouterSpec, add_router
from mteja.logs import CorrelationFilter, JsonFormatter, log_handler
from web.app import WebConfig, create_app


def unreachable_database() -> CoreServices:
    # Nothing listens on port 1: every connection is refused at once.
    engine = create_engine("postgresql+psycopg://mteja@127.0.0.1:1/mteja?connect_timeout=2")
    return services_for(engine)


def queue_down() -> None:
    raise ConnectionError("Redis refused the connection")


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    """What the root logger writes, as JSON lines."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(CorrelationFilter())
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.addHandler(handler)
    level = root.level
    root.setLevel(logging.INFO)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def lines(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_healthz_answers_while_the_database_is_down() -> None:
    with TestClient(create_app(unreachable_database())) as client:
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_is_ready_when_the_database_and_queue_answer(db_services: CoreServices) -> None:
    app = create_app(db_services, WebConfig(queue_ping=lambda: None))
    with TestClient(app) as client:
        response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "checks": {
            "database": "ok",
            "queue": "ok",
            "routers": {"status": "ok", "unreachable": []},
        },
    }


def test_readyz_fails_when_the_database_is_unreachable() -> None:
    app = create_app(unreachable_database(), WebConfig(queue_ping=lambda: None))
    with TestClient(app) as client:
        response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["status"] == "error"
    assert response.json()["checks"]["database"] == "unreachable"
    assert response.json()["checks"]["queue"] == "ok"


def test_readyz_fails_when_the_queue_is_unreachable(db_services: CoreServices) -> None:
    app = create_app(db_services, WebConfig(queue_ping=queue_down))
    with TestClient(app) as client:
        response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"] == {
        "database": "ok",
        "queue": "unreachable",
        "routers": {"status": "ok", "unreachable": []},
    }


def test_an_unreachable_router_is_reported_but_keeps_the_process_ready(
    db_services: CoreServices, staff: Actor
) -> None:
    with db_services.unit_of_work() as uow:
        for name in ("core-1", "kahawa"):
            add_router(
                uow, staff, RouterSpec(name, "192.0.2.1", 8728, "admin", "secret", plain_api=True)
            )
        uow.session.flush()
        for router in uow.session.query(Router):
            router.status = "offline" if router.name == "kahawa" else "online"
        uow.commit()
    with TestClient(create_app(db_services, WebConfig(queue_ping=lambda: None))) as client:
        response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["checks"]["routers"] == {"status": "degraded", "unreachable": ["kahawa"]}


def test_a_request_keeps_a_sane_request_id_and_logs_carry_it(captured: io.StringIO) -> None:
    with TestClient(create_app(unreachable_database())) as client:
        response = client.get("/readyz", headers={"X-Request-ID": "lb-4f2a.91"})
    assert response.headers["X-Request-ID"] == "lb-4f2a.91"
    warnings = [line for line in lines(captured) if line["logger"] == "web.health"]
    assert warnings, "the unreachable database is logged"
    assert {line["correlation_id"] for line in warnings} == {"lb-4f2a.91"}
    assert set(warnings[0]) >= {"time", "level", "logger", "message", "correlation_id"}
    assert warnings[0]["level"] == "WARNING"


@pytest.mark.parametrize("incoming", [None, "", "two words", "x" * 200, "a\nforged line"])
def test_a_missing_or_odd_request_id_is_replaced_by_a_new_one(incoming, db_services) -> None:
    headers = {} if incoming is None else {"X-Request-ID": incoming}
    with TestClient(create_app(db_services)) as client:
        first = client.get("/healthz", headers=headers).headers["X-Request-ID"]
        second = client.get("/healthz", headers=headers).headers["X-Request-ID"]
    assert first != incoming and len(first) == 32 and first != second


def test_json_lines_carry_the_exception() -> None:
    stream = io.StringIO()
    logger = logging.getLogger("mteja.test.json")
    handler = log_handler("json")
    handler.setStream(stream)  # type: ignore[attr-defined]
    logger.addHandler(handler)
    logger.propagate = False
    try:
        try:
            raise ValueError("the router said no")
        except ValueError:
            logger.exception("sync of %s failed", "kahawa")
    finally:
        logger.removeHandler(handler)
    [line] = lines(stream)
    assert line["message"] == "sync of kahawa failed"
    assert line["correlation_id"] is None
    assert "ValueError: the router said no" in str(line["exception"])


def test_text_lines_carry_the_correlation_id_too() -> None:
    from core import correlation

    stream = io.StringIO()
    logger = logging.getLogger("mteja.test.text")
    handler = log_handler("text")
    handler.setStream(stream)  # type: ignore[attr-defined]
    logger.addHandler(handler)
    logger.propagate = False
    token = correlation.current.set("job-77")
    try:
        logger.warning("hello")
    finally:
        correlation.current.reset(token)
        logger.removeHandler(handler)
    assert "[job-77] hello" in stream.getvalue()


def test_the_log_format_setting_is_text_or_json() -> None:
    assert Settings(_env_file=None).log_format == "text"  # type: ignore[call-arg]
    assert Settings(_env_file=None, log_format="json").log_format == "json"  # type: ignore[call-arg]
    with pytest.raises(ValueError):
        Settings(_env_file=None, log_format="xml")  # type: ignore[call-arg]
