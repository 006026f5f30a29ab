"""The console's contract, checked on every route it has (walked from the app, so a page added
later is covered without being listed here):

- without a session every page and every action answers 303 to the login page, with no
  customer data, and an action changes nothing;
- every action needs its form's CSRF token: without it, 403 and nothing changes;
- a viewer may post none of them (but logging out and their own password): 403, nothing changes;
- odd query parameters never get a 500.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import func, select
from starlette.routing import Mount, Route
from starlette.testclient import TestClient

from core.lookup import by_account_number
from core.models import (
    AuditEvent,
    Customer,
    LedgerEntry,
    Payment,
    SmsMessage,
    StaffLoginLink,
    StaffMember,
    Ticket,
)
from core.unit_of_work import CoreServices
from core.usecases.tickets import TicketCategory, open_ticket
from tests.unit.web.conftest import STAFF_IDS, Shop, csrf_at

# Pages anyone may open: logging in.
PUBLIC = ("/staff/login", "/staff/login/link/{token}")
# What a viewer may post: their own session and password.
VIEWER_MAY_POST = ("/staff/logout", "/staff/staff/me/password")


def console_routes(app: Any) -> Iterator[tuple[str, str]]:
    """(method, path template) of every route under /staff/ but the static files."""

    def walk(routes: list[Any], prefix: str) -> Iterator[tuple[str, str]]:
        for route in routes:
            if isinstance(route, Mount):
                inner = getattr(route.app, "app", route.app)
                if hasattr(inner, "routes"):
                    yield from walk(inner.routes, prefix + route.path)
            elif isinstance(route, Route):
                for method in sorted((route.methods or set()) - {"HEAD"}):
                    yield method, prefix + route.path

    for method, path in walk(app.routes, ""):
        if path.startswith("/staff/") and not path.startswith("/staff/static"):
            yield method, path


def _routes(kind: str) -> list[str]:
    from core.testing import in_memory_engine, services_for
    from web.app import WebConfig, create_app
    from web.console import ConsoleConfig

    app = create_app(services_for(in_memory_engine()), WebConfig(console=ConsoleConfig()))
    return [path for method, path in console_routes(app) if method == kind]


GETS = [path for path in _routes("GET") if path not in PUBLIC]
POSTS = [path for path in _routes("POST") if path not in PUBLIC]


@pytest.fixture
def ticket(services: CoreServices, shop: Shop) -> int:
    with services.unit_of_work() as uow:
        customer = by_account_number(uow, shop.paid)
        assert customer is not None
        opened = open_ticket(uow, "+254712345678", customer.id, TicketCategory.SLOW, "ussd")
        uow.commit()
        return opened.ticket_id


@pytest.fixture
def fill(shop: Shop, ticket: int) -> Callable[[str], str]:
    values = {
        "{account}": shop.paid,
        "{pool_id:int}": "1",
        "{name}": "core-1",
        "{telegram_id:int}": str(STAFF_IDS["agent"]),
        "{ticket_id:int}": str(ticket),
        "{number}": "1",
        "{token}": "not-a-token",
    }

    def filled(template: str) -> str:
        for key, value in values.items():
            template = template.replace(key, value)
        assert "{" not in template, f"no sample value for {template}"
        return template

    return filled


def fingerprint(services: CoreServices) -> tuple[Any, ...]:
    """What an action could change, in numbers: rows of each kind and the money."""
    with services.unit_of_work(read_only=True) as uow:
        session = uow.session
        counts = tuple(
            session.scalar(select(func.count()).select_from(model))
            for model in (AuditEvent, Payment, SmsMessage, StaffLoginLink, StaffMember, Ticket)
        )
        money = session.scalar(select(func.coalesce(func.sum(LedgerEntry.amount_kes), 0)))
        customers = tuple(
            session.execute(
                select(
                    Customer.status, Customer.expires_at, Customer.plan_id, Customer.deleted_at
                ).order_by(Customer.id)
            )
        )
        staff = tuple(session.execute(select(StaffMember.role, StaffMember.active)))
        tickets = tuple(session.execute(select(Ticket.status, Ticket.assignee_id)))
    return counts, money, customers, staff, tickets


def test_every_route_is_walked() -> None:
    # A guard on the walk itself: it finds the pages and the actions.
    assert "/staff/customers/{account}" in GETS and "/staff/customers/{account}/pay" in POSTS
    assert len(GETS) > 20 and len(POSTS) > 20


@pytest.mark.parametrize("path", GETS)
def test_without_a_session_every_page_sends_to_login_with_no_data(
    anonymous: TestClient, shop: Shop, fill: Callable[[str], str], path: str
) -> None:
    response = anonymous.get(fill(path))
    assert response.status_code == 303, path
    assert response.headers["location"].startswith("/staff/login")
    for secret in (shop.paid, shop.unpaid, "Wanjiku", "KES"):
        assert secret not in response.text


@pytest.mark.parametrize("path", POSTS)
def test_without_a_session_every_action_changes_nothing(
    anonymous: TestClient,
    services: CoreServices,
    fill: Callable[[str], str],
    path: str,
) -> None:
    before = fingerprint(services)
    response = anonymous.post(fill(path), data={"csrf": "x", "amount": "100", "reason": "r"})
    assert response.status_code == 303 and response.headers["location"].startswith("/staff/login")
    assert fingerprint(services) == before


@pytest.mark.parametrize("path", POSTS)
def test_every_action_needs_its_forms_token(
    login: Callable[[str], TestClient],
    services: CoreServices,
    fill: Callable[[str], str],
    path: str,
) -> None:
    owner = login("owner")
    before = fingerprint(services)
    for token in (None, "forged"):
        data = {"amount": "100", "method": "cash", "reason": "r", "note": "n"}
        if token is not None:
            data["csrf"] = token
        response = owner.post(fill(path), data=data)
        assert response.status_code == 403, (path, response.text[:300])
    assert fingerprint(services) == before


@pytest.mark.parametrize("path", [path for path in POSTS if path not in VIEWER_MAY_POST])
def test_a_viewer_may_do_nothing(
    login: Callable[[str], TestClient],
    services: CoreServices,
    shop: Shop,
    fill: Callable[[str], str],
    path: str,
) -> None:
    viewer = login("viewer")
    token = csrf_at(viewer, "/staff/")
    before = fingerprint(services)
    data = {
        "csrf": token,
        "amount": "100",
        "method": "cash",
        "reason": "r",
        "note": "n",
        "plan": "Home 20M",
        "timing": "now",
        "days": "3",
        "account": shop.unpaid,
        "role": "owner",
        "confirm": "1",
    }
    response = viewer.post(fill(path), data=data)
    assert response.status_code == 403, (path, response.status_code, response.text[:300])
    assert fingerprint(services) == before


ODD_VALUES = [
    "abc",
    "-1",
    "0",
    "9" * 30,
    "",
    "' OR 1=1 --",
    "<script>",
    "2026-13-45",
    "\x00",
    "é" * 300,
]
ODD_NAMES = [
    "page",
    "sort",
    "status",
    "plan",
    "router",
    "q",
    "from",
    "to",
    "method",
    "tab",
    "prefix",
]


@pytest.mark.parametrize("path", [path for path in GETS if "{token}" not in path])
def test_odd_query_parameters_never_get_a_500(
    login: Callable[[str], TestClient], fill: Callable[[str], str], path: str
) -> None:
    owner = login("owner")
    for value in ODD_VALUES:
        response = owner.get(fill(path), params=dict.fromkeys(ODD_NAMES, value))
        assert response.status_code < 500, (path, value)
        assert "<script>" not in response.text.replace("<script src=", "")


def test_an_unknown_console_path_is_not_found_for_staff(
    login: Callable[[str], TestClient],
) -> None:
    assert login("viewer").get("/staff/no-such-page").status_code == 404
