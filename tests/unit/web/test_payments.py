"""Payments: the list between two days with its filters and pages, and the CSV export (admins
and owners only, audited)."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import timedelta

import pytest
from starlette.testclient import TestClient

from core.actors import Actor
from core.lookup import by_account_number
from core.models import AuditEvent
from core.testing import TEST_EPOCH
from core.unit_of_work import CoreServices
from core.usecases.billing import IncomingPayment, record_payment, record_unmatched_payment
from tests.unit.web.conftest import ROLES, Shop, row_count

TODAY = "2026-11-22"  # TEST_EPOCH, local


def _exports(services: CoreServices) -> int:
    return row_count(services, AuditEvent.id, AuditEvent.action == "export.payments")


@pytest.fixture
def statement(services: CoreServices, staff: Actor, shop: Shop) -> None:
    """Besides the seeded cash payment: an M-Pesa one yesterday and one matched to nobody."""
    with services.unit_of_work() as uow:
        customer = by_account_number(uow, shop.unpaid)
        assert customer is not None
        yesterday = TEST_EPOCH - timedelta(days=1)
        record_payment(
            uow, customer.id, staff, IncomingPayment(1500, "mpesa", "QK1", received_at=yesterday)
        )
        record_unmatched_payment(
            uow, staff, IncomingPayment(700, "mpesa", "QK2", account_reference="NOBODY")
        )
        uow.commit()


@pytest.mark.parametrize("role", ROLES)
def test_every_role_sees_the_last_week_of_payments(
    login: Callable[[str], TestClient], shop: Shop, statement: None, role: str
) -> None:
    page = login(role).get("/staff/payments")
    assert page.status_code == 200
    assert "3 payments from 2026-11-16 to 2026-11-22, KES 4,200 in all." in page.text
    assert shop.paid in page.text and "QK1" in page.text and "(NOBODY)" in page.text
    has_export = 'href="/staff/payments.csv?' in page.text
    assert has_export == (role in ("admin", "owner"))


@pytest.mark.parametrize(
    ("query", "shown", "hidden"),
    [
        ({"from": TODAY, "to": TODAY}, ["QK2"], ["QK1"]),
        ({"from": "2026-11-21", "to": TODAY, "method": "mpesa"}, ["QK1", "QK2"], ["cash"]),
        ({"from": "2026-11-21", "to": TODAY, "status": "unmatched"}, ["QK2"], ["QK1"]),
        ({"from": "2026-11-21", "to": TODAY, "method": "cash"}, ["cash"], ["QK1", "QK2"]),
    ],
)
def test_the_filters_keep_what_was_asked_for(
    login: Callable[[str], TestClient],
    statement: None,
    query: dict[str, str],
    shown: list[str],
    hidden: list[str],
) -> None:
    page = login("agent").get("/staff/payments", params=query)
    assert page.status_code == 200
    rows = page.text.split("<tbody>")[1]
    assert all(text in rows for text in shown)
    assert not any(text in rows for text in hidden)


@pytest.mark.parametrize(
    "query",
    [
        {"from": "yesterday", "to": TODAY},
        {"from": TODAY, "to": "2026-13-01"},
        {"from": "2026-11-23", "to": TODAY},
        {"from": TODAY, "to": TODAY, "method": "bitcoin"},
        {"from": TODAY, "to": TODAY, "status": "evil"},
        {"page": "abc"},
        {"page": "0"},
    ],
)
def test_bad_parameters_are_a_400(
    login: Callable[[str], TestClient], statement: None, query: dict[str, str]
) -> None:
    page = login("viewer").get("/staff/payments", params=query)
    assert page.status_code == 400
    assert "QK1" not in page.text


def test_a_long_list_is_paged(
    login: Callable[[str], TestClient], services: CoreServices, staff: Actor, shop: Shop
) -> None:
    with services.unit_of_work() as uow:
        customer = by_account_number(uow, shop.unpaid)
        assert customer is not None
        for n in range(55):
            record_payment(uow, customer.id, staff, IncomingPayment(10, "mpesa", f"QP{n:03d}"))
        uow.commit()
    client = login("viewer")
    first = client.get("/staff/payments", params={"from": TODAY, "to": TODAY})
    assert first.text.count("<tr>") == 51  # the heading and 50 payments
    assert "page=2" in first.text and "Next" in first.text
    second = client.get("/staff/payments", params={"from": TODAY, "to": TODAY, "page": "2"})
    assert second.text.count("<tr>") == 7 and "Next" not in second.text
    assert "56 payments" in second.text


@pytest.mark.parametrize("role", ["admin", "owner"])
def test_admins_download_the_filtered_list_as_csv_and_it_is_audited(
    login: Callable[[str], TestClient], services: CoreServices, statement: None, role: str
) -> None:
    query = {"from": "2026-11-21", "to": TODAY, "method": "mpesa"}
    response = login(role).get("/staff/payments.csv", params=query)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert response.headers["content-disposition"] == (
        'attachment; filename="payments-2026-11-21-to-2026-11-22.csv"'
    )
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [row["receipt"] for row in rows] == ["QK1", "QK2"]
    assert rows[1]["status"] == "unmatched"
    assert _exports(services) == 1


@pytest.mark.parametrize("role", ["agent", "viewer"])
def test_other_roles_may_not_download_and_nothing_is_recorded(
    login: Callable[[str], TestClient], services: CoreServices, statement: None, role: str
) -> None:
    response = login(role).get("/staff/payments.csv", params={"from": TODAY, "to": TODAY})
    assert response.status_code == 403
    assert "QK2" not in response.text
    assert _exports(services) == 0


def test_a_csv_of_bad_dates_is_a_400_and_not_recorded(
    login: Callable[[str], TestClient], services: CoreServices, statement: None
) -> None:
    response = login("owner").get("/staff/payments.csv", params={"from": "soon", "to": TODAY})
    assert response.status_code == 400
    assert _exports(services) == 0


@pytest.mark.parametrize("path", ["/staff/payments", "/staff/payments.csv"])
def test_without_a_session_no_payment_is_shown(
    anonymous: TestClient, statement: None, path: str
) -> None:
    response = anonymous.get(path, params={"from": TODAY, "to": TODAY})
    assert response.status_code == 303
    assert response.headers["location"].startswith("/staff/login")
    assert "QK2" not in response.text
