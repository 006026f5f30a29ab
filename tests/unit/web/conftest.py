"""Fixtures for the staff web console: a small ISP on in-memory SQLite with one staff member of
each role, the real web app through Starlette's TestClient, and ``login(role)``, which logs a
client in through a real one-time link.

The clock is frozen at TEST_EPOCH (tests/conftest.py).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import func, select
from starlette.testclient import TestClient

from core.actors import Actor
from core.unit_of_work import CoreServices
from core.usecases.billing import IncomingPayment, record_payment
from core.usecases.customers import NewCustomer, create_customer
from core.usecases.network import RouterSpec, add_pool, add_router
from core.usecases.plans import PlanSpec, add_plan
from core.usecases.staff import add_staff
from core.usecases.staff_access import issue_login_link
from web.app import WebConfig, create_app
from web.console import ConsoleConfig

PUBLIC_URL = "http://testserver"
# Telegram user ids of the seeded staff, by role.
STAFF_IDS = {"owner": 1001, "admin": 1002, "agent": 1003, "viewer": 1004}
STAFF_NAMES = {
    "owner": "Amina Owner",
    "admin": "Baraka Admin",
    "agent": "Chebet Agent",
    "viewer": "Dedan Viewer",
}
ROLES = tuple(STAFF_IDS)


@dataclass(frozen=True)
class Shop:
    """The seeded ISP: what tests refer to by account number."""

    paid: str  # Wanjiku, PPPoE Home 10M, paid 2,000 (active, KES 500 credit)
    unpaid: str  # Otieno, PPPoE Home 10M, never paid
    hotspot: str  # Otieno's shop, hotspot Daily 5M


@pytest.fixture
def shop(services: CoreServices, staff: Actor) -> Shop:
    with services.unit_of_work() as uow:
        for role, telegram_id in STAFF_IDS.items():
            add_staff(uow, staff, telegram_id, STAFF_NAMES[role], role)
        add_router(
            uow, staff, RouterSpec("core-1", "127.0.0.1", 8728, "admin", "secret", plain_api=True)
        )
        add_pool(uow, staff, "core-1", "10.10.0.0/24")
        add_plan(uow, staff, PlanSpec("Home 10M", "pppoe", 1500, "10M", "5M", validity_days=30))
        add_plan(uow, staff, PlanSpec("Home 20M", "pppoe", 2500, "20M", "10M", validity_days=30))
        add_plan(uow, staff, PlanSpec("Daily 5M", "hotspot", 50, "5M", "2M", validity_hours=24))
        uow.commit()

    def make(phone: str, name: str, **fields: Any) -> str:
        form: dict[str, Any] = {
            "full_name": name,
            "phone": phone,
            "connection_type": "pppoe",
            "plan": "Home 10M",
            "router": "core-1",
            "send_welcome": False,
            **fields,
        }
        with services.unit_of_work() as uow:
            created = create_customer(uow, staff, NewCustomer(**form))
            uow.commit()
            return created.customer.account_number

    paid = make("+254712345678", "Wanjiku Kamau")
    unpaid = make("0722000111", "Otieno Odhiambo")
    hotspot = make("0722000111", "Otieno Shop", connection_type="hotspot", plan="Daily 5M")
    with services.unit_of_work() as uow:
        from core.lookup import by_account_number

        customer = by_account_number(uow, paid)
        assert customer is not None
        record_payment(uow, customer.id, staff, IncomingPayment(2000, "cash", None))
        uow.commit()
    return Shop(paid=paid, unpaid=unpaid, hotspot=hotspot)


@pytest.fixture
def app(services: CoreServices) -> Any:
    return create_app(services, WebConfig(console=ConsoleConfig(public_url=PUBLIC_URL)))


@pytest.fixture
def anonymous(app: Any) -> Iterator[TestClient]:
    """A browser with no session (redirects are not followed, so tests see the 303s)."""
    with TestClient(app, follow_redirects=False) as client:
        yield client


def login_link(services: CoreServices, who: str) -> str:
    """A fresh one-time link (its path) for staff member ``who``, made as the command line."""
    with services.unit_of_work() as uow:
        link = issue_login_link(uow, Actor.cli(), who)
        uow.commit()
    return f"/staff/login/link/{link.token}"


def csrf_of(html: str) -> str:
    """The CSRF token of the first form on a page."""
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "no CSRF field on the page"
    return found.group(1)


def form_tokens(html: str) -> dict[str, str]:
    """The CSRF token and the one-time token of the first form on a page, as form fields."""
    tokens = {"csrf": csrf_of(html)}
    once = re.search(r'name="once" value="([^"]+)"', html)
    if once:
        tokens["once"] = once.group(1)
    return tokens


@pytest.fixture
def login(app: Any, services: CoreServices, shop: Shop) -> Iterator[Callable[[str], TestClient]]:
    """``login(role)``: a client logged in as the seeded staff member of ``role`` through a
    one-time link (GET shows the button, POST uses the link)."""
    clients: list[TestClient] = []

    def as_role(role: str) -> TestClient:
        client = TestClient(app, follow_redirects=False)
        client.__enter__()
        clients.append(client)
        path = login_link(services, str(STAFF_IDS[role]))
        page = client.get(path)
        assert page.status_code == 200, page.text
        done = client.post(path, data={"csrf": csrf_of(page.text)})
        assert done.status_code == 303, done.text
        return client

    yield as_role
    for client in clients:
        client.__exit__(None, None, None)


def csrf_at(client: TestClient, page_path: str) -> str:
    """The CSRF token of the page at ``page_path`` as ``client`` sees it."""
    return csrf_of(client.get(page_path).text)


def password_login(client: TestClient, name: str, password: str, **extra: str) -> Any:
    """Log ``client`` in with a name and password through the login form."""
    return client.post(
        "/staff/login",
        data={"csrf": csrf_at(client, "/staff/login"), "name": name, "password": password, **extra},
    )


def row_count(services: CoreServices, column: Any, *where: Any) -> int:
    """How many rows have ``column`` (``Model.id``) and meet ``where``."""
    with services.unit_of_work(read_only=True) as uow:
        return int(uow.session.scalar(select(func.count(column)).where(*where)) or 0)


def post_form(client: TestClient, page_path: str, action: str, **fields: Any) -> Any:
    """POST ``fields`` to ``action`` with the tokens of a form on the page at ``page_path``."""
    page = client.get(page_path)
    assert page.status_code == 200, page.text
    return client.post(action, data={**form_tokens(page.text), **fields})
