"""The usage tab asks the customer's router when the console has a presence lookup (as
``mteja web`` gives it): live, offline, or the router not answering, each said as such."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from starlette.testclient import TestClient

from core.unit_of_work import CoreServices
from routers.presence import LiveSession, Presence
from tests.unit.web.conftest import PUBLIC_URL, Shop
from web.app import WebConfig, create_app
from web.console import ConsoleConfig

ROUTER_SAYS: dict[str, Presence] = {}
ASKED: list[int] = []


def _presence(customer_id: int) -> Presence:
    ASKED.append(customer_id)
    return ROUTER_SAYS["now"]


@pytest.fixture
def app(services: CoreServices) -> Any:
    ASKED.clear()
    return create_app(
        services, WebConfig(console=ConsoleConfig(public_url=PUBLIC_URL)), presence=_presence
    )


def test_an_online_customer_is_shown_live_from_the_router(
    login: Callable[[str], TestClient], shop: Shop
) -> None:
    ROUTER_SAYS["now"] = Presence(
        "online", LiveSession("10.10.0.77", "1h2m3s", 5_000_000, 90_000_000, "*A1")
    )
    client = login("viewer")
    page = client.get(f"/staff/customers/{shop.paid}/usage")
    assert page.status_code == 200
    assert "10.10.0.77" in page.text and "Live from the router" in page.text
    assert "1 h" in page.text or "1h" in page.text or "62 min" in page.text
    fragment = client.get(f"/staff/customers/{shop.paid}/usage/live")
    assert "10.10.0.77" in fragment.text
    assert len(ASKED) == 2


def test_an_offline_customer_and_a_silent_router_are_told_apart(
    login: Callable[[str], TestClient], shop: Shop
) -> None:
    client = login("viewer")
    ROUTER_SAYS["now"] = Presence("offline")
    offline = client.get(f"/staff/customers/{shop.paid}/usage/live")
    assert "no session right now" in offline.text and "Asked the router just now" in offline.text
    ROUTER_SAYS["now"] = Presence("unknown", reason="router not answering (timed out)")
    silent = client.get(f"/staff/customers/{shop.paid}/usage/live")
    assert "the router is not answering" in silent.text and "timed out" in silent.text
