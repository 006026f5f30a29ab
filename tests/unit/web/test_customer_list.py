"""The customer list (/staff/customers) and its CSV (/staff/customers.csv): every role looks,
filters and pages through core.customer_list; admins and owners download the list; bad
parameters are a 400 page, never a 500."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import select
from starlette.testclient import TestClient

from core.models import AuditEvent, Customer
from core.testing import TEST_EPOCH
from core.unit_of_work import CoreServices
from core.usecases.customers import NewCustomer, create_customer
from tests.unit.web.conftest import ROLES, Shop

Login = Callable[[str], TestClient]


def _accounts(html: str) -> list[str]:
    """The account numbers the table links to, in order."""
    return re.findall(r'<td><a href="/staff/customers/([^"]+)">', html)


def _set(services: CoreServices, account: str, **values: object) -> None:
    with services.unit_of_work() as uow:
        customer = uow.session.scalars(
            select(Customer).where(Customer.account_number == account)
        ).one()
        for name, value in values.items():
            setattr(customer, name, value)
        uow.commit()


def _add(services: CoreServices, staff, count: int, name: str = "Zawadi") -> None:
    with services.unit_of_work() as uow:
        for number in range(count):
            form = NewCustomer(
                full_name=f"{name} {number:02d}",
                phone=f"07330{number:05d}",
                connection_type="pppoe",
                plan="Home 20M",
                router="core-1",
                send_welcome=False,
            )
            create_customer(uow, staff, form)
        uow.commit()


def _exports(services: CoreServices) -> list[object]:
    """What the audit recorded of each customer export."""
    with services.unit_of_work() as uow:
        query = select(AuditEvent.after).where(AuditEvent.action == "export.customers")
        return list(uow.session.scalars(query))


@pytest.mark.parametrize("path", ["/staff/customers", "/staff/customers.csv"])
def test_without_a_session_the_list_redirects_to_login_with_no_data(
    anonymous: TestClient, shop: Shop, path: str
) -> None:
    response = anonymous.get(path + "?q=wanjiku")
    assert response.status_code == 303
    assert response.headers["location"].startswith("/staff/login?next=")
    assert "Wanjiku" not in response.text and shop.paid not in response.text


@pytest.mark.parametrize("role", ROLES)
def test_every_role_sees_the_list_by_name(login: Login, shop: Shop, role: str) -> None:
    response = login(role).get("/staff/customers")
    assert response.status_code == 200
    assert _accounts(response.text) == [shop.unpaid, shop.hotspot, shop.paid]
    assert "1–3 of 3 · sort name" in response.text
    assert "Wanjiku Kamau" in response.text and "Home 10M" in response.text
    assert 'class="badge s-active">active' in response.text
    assert '<td class="num">credit KES 500</td>' in response.text


def test_the_form_offers_cores_choices_and_keeps_what_was_chosen(login: Login, shop: Shop) -> None:
    html = login("viewer").get("/staff/customers?plan=Home+20M&sort=expiry&status=expiring").text
    for choice in ("expiring", "suspended", "core-1", "Daily 5M", "hotspot", "debt", "created"):
        assert f">{choice}</option>" in html
    assert '<option value="Home 20M" selected>' in html
    assert '<option value="expiry" selected>' in html
    assert '<option value="expiring" selected>' in html


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("status=active", ["paid"]),
        ("status=inactive", ["unpaid", "hotspot"]),
        ("q=otieno", ["unpaid", "hotspot"]),
        ("q=0722000111", ["unpaid", "hotspot"]),
        ("plan=Daily+5M", ["hotspot"]),
        ("type=pppoe&sort=created", ["unpaid", "paid"]),
        ("router=core-1&balance=credit", ["paid"]),
        (
            "created_from=2026-11-22&created_to=2026-11-22&sort=balance",
            ["unpaid", "hotspot", "paid"],
        ),
        ("expires_from=2026-12-01", ["paid"]),
        ("created_to=2026-11-21", []),
    ],
)
def test_filters_search_and_sorts(
    login: Login, shop: Shop, query: str, expected: list[str]
) -> None:
    response = login("agent").get(f"/staff/customers?{query}")
    assert response.status_code == 200, response.text
    assert _accounts(response.text) == [getattr(shop, name) for name in expected]
    if not expected:
        assert "Nobody matches" in response.text


def test_the_account_number_itself_finds_the_customer(login: Login, shop: Shop) -> None:
    response = login("viewer").get(f"/staff/customers?q={shop.hotspot.lower()}")
    assert _accounts(response.text) == [shop.hotspot]


def test_an_expiring_customer_is_shown_as_expiring(
    login: Login, services: CoreServices, shop: Shop
) -> None:
    _set(services, shop.paid, expires_at=TEST_EPOCH + timedelta(days=1))
    html = login("viewer").get("/staff/customers?status=expiring").text
    assert _accounts(html) == [shop.paid]
    assert 'class="badge s-expiring">expiring' in html
    assert "expiring · sort name" in html


def test_pages_link_to_each_other_keeping_the_filters(
    login: Login, services: CoreServices, staff, shop: Shop
) -> None:
    _add(services, staff, 23)
    client = login("viewer")
    first = client.get("/staff/customers?plan=Home+20M&sort=name").text
    assert len(_accounts(first)) == 20
    assert "1–20 of 23 · plan Home 20M · sort name" in first
    assert 'href="/staff/customers?plan=Home+20M&amp;sort=name&amp;page=2" rel="next"' in first
    assert 'rel="prev"' not in first
    second = client.get("/staff/customers?plan=Home+20M&sort=name&page=2").text
    assert "21–23 of 23" in second
    assert len(_accounts(second)) == 3 and "Zawadi 22" in second
    assert 'href="/staff/customers?plan=Home+20M&amp;sort=name" rel="prev"' in second
    assert 'rel="next"' not in second
    beyond = client.get("/staff/customers?plan=Home+20M&page=9")
    assert beyond.status_code == 200 and "No more customers (23 match)" in beyond.text


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("page=abc", "The page is a number from 1, not &#39;abc&#39;."),
        ("page=0", "from 1 to 100,000, not 0"),
        ("page=99999999999999999999", "from 1 to 100,000"),
        ("sort=evil", "evil"),
        ("status=happy", "happy"),
        ("type=fibre", "fibre"),
        ("balance=rich", "rich"),
        ("plan=Nope", "Nope"),
        ("router=edge-9", "edge-9"),
        ("created_from=yesterday", "is not a date YYYY-MM-DD"),
        ("expires_from=2026-12-05&expires_to=2026-12-01", "is after 2026-12-01"),
        ("q=" + "x" * 101, "at most 100 characters"),
        ("q=wan%00jiku", "control character (such as NUL)"),
        ("plan=%00", "control character (such as NUL)"),
    ],
)
def test_bad_parameters_are_a_400_page_with_the_message(
    login: Login, shop: Shop, query: str, message: str
) -> None:
    for path in ("/staff/customers", "/staff/customers.csv"):
        if path.endswith(".csv") and query.startswith("page="):
            continue  # the file is the whole list: it reads no page
        response = login("owner").get(f"{path}?{query}")
        assert response.status_code == 400, response.text
        assert message in response.text
        assert "Wanjiku" not in response.text


@pytest.mark.parametrize("role", ROLES)
def test_only_managers_see_the_new_customer_button(login: Login, shop: Shop, role: str) -> None:
    html = login(role).get("/staff/customers").text
    shown = 'href="/staff/customers/new"' in html
    assert shown is (role in ("owner", "admin"))


@pytest.mark.parametrize("role", ["owner", "admin"])
def test_admins_and_owners_download_the_filtered_list(
    login: Login, services: CoreServices, shop: Shop, role: str
) -> None:
    client = login(role)
    page = client.get("/staff/customers?q=otieno&sort=created").text
    assert 'href="/staff/customers.csv?q=otieno&amp;sort=created"' in page
    response = client.get("/staff/customers.csv?q=otieno&sort=created")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"] == (
        'attachment; filename="customers-2026-11-22.csv"'
    )
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0][:3] == ["account_number", "full_name", "phone"]
    assert [row[0] for row in rows[1:]] == [shop.hotspot, shop.unpaid]
    assert _exports(services) == [{"filter": "matching 'otieno' · sort created", "rows": 2}]


@pytest.mark.parametrize("role", ["agent", "viewer"])
def test_agents_and_viewers_get_no_csv_link_and_a_403(
    login: Login, services: CoreServices, shop: Shop, role: str
) -> None:
    client = login(role)
    assert "customers.csv" not in client.get("/staff/customers").text
    response = client.get("/staff/customers.csv")
    assert response.status_code == 403
    assert "Wanjiku" not in response.text
    assert _exports(services) == []


def test_the_csv_escapes_cells_a_spreadsheet_would_run(
    login: Login, services: CoreServices, shop: Shop
) -> None:
    _set(services, shop.unpaid, full_name='=HYPERLINK("http://evil.example","pay here")')
    response = login("admin").get("/staff/customers.csv?sort=created")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    names = {row[0]: row[1] for row in rows[1:]}
    assert names[shop.unpaid] == '\'=HYPERLINK("http://evil.example","pay here")'
    assert names[shop.paid] == "Wanjiku Kamau"
