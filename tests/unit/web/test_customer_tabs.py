"""The customer page's tabs: each shows the customer's data from core, pages and date ranges are
checked (garbage → 400), an unknown account is 404, and without a session every tab is a 303."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from starlette.testclient import TestClient

from core.actors import Actor
from core.clock import FrozenClock
from core.lookup import by_account_number
from core.models import Customer
from core.ports import SmsSent
from core.unit_of_work import CoreServices, UnitOfWork
from core.usecases.account_details import add_note
from core.usecases.billing import IncomingPayment, record_payment
from core.usecases.customers import NewCustomer, create_customer
from core.usecases.outreach import send_customer_sms
from core.usecases.service import extend, suspend
from core.usecases.sms import SECRET_MASK, queue_sms, record_sent
from core.usecases.sms_history import Delivery, record_delivery, record_inbound
from core.usecases.tickets import TicketCategory, open_ticket
from core.usecases.usage import SessionReading, record_usage
from tests.unit.web.conftest import ROLES, Shop

Login = Callable[[str], TestClient]
TABS = (
    "transactions",
    "invoices",
    "sub-accounts",
    "usage",
    "usage/live",
    "daily-usage",
    "extensions",
    "sms",
    "logs",
    "notes",
)
PAGED = ("transactions", "sms", "logs")


def _customer(uow: UnitOfWork, account: str) -> Customer:
    customer = by_account_number(uow, account)
    assert customer is not None
    return customer


@pytest.mark.parametrize("tab", TABS)
def test_without_a_session_a_tab_redirects_to_login_with_no_data(
    anonymous: TestClient, shop: Shop, tab: str
) -> None:
    response = anonymous.get(f"/staff/customers/{shop.paid}/{tab}")
    assert response.status_code == 303
    assert response.headers["location"].startswith("/staff/login?next=")
    assert "Wanjiku" not in response.text


@pytest.mark.parametrize("role", ROLES)
def test_every_role_may_view_every_tab(login: Login, shop: Shop, role: str) -> None:
    client = login(role)
    for tab in TABS:
        response = client.get(f"/staff/customers/{shop.paid}/{tab}")
        assert response.status_code == 200, (tab, response.text)
        if tab != "usage/live":
            assert "Wanjiku Kamau" in response.text and 'aria-current="page"' in response.text


@pytest.mark.parametrize("tab", TABS)
def test_an_unknown_account_is_404(login: Login, shop: Shop, tab: str) -> None:
    response = login("viewer").get(f"/staff/customers/NOPE999/{tab}")
    assert response.status_code == 404
    assert "NOPE999" in response.text


@pytest.mark.parametrize("tab", PAGED)
@pytest.mark.parametrize("page", ["abc", "0", "-1", "1.5", "9999999", "502"])
def test_a_bad_page_is_400(login: Login, shop: Shop, tab: str, page: str) -> None:
    response = login("viewer").get(f"/staff/customers/{shop.paid}/{tab}", params={"page": page})
    assert response.status_code == 400
    assert "page" in response.text.lower()


def test_transactions_show_payments_with_method_reference_and_balance_after(
    login: Login, services: CoreServices, staff: Actor, clock: FrozenClock, shop: Shop
) -> None:
    clock.advance(timedelta(hours=1))
    with services.unit_of_work() as uow:
        customer = _customer(uow, shop.paid)
        record_payment(uow, customer.id, staff, IncomingPayment(300, "mpesa", "QAB12CD34E"))
        uow.commit()
    page = login("agent").get(f"/staff/customers/{shop.paid}/transactions")
    assert page.status_code == 200
    text = page.text
    assert "QAB12CD34E" in text and "mpesa" in text and "cash" in text
    # 2,000 paid, 1,500 charged for the first month, then 300 more: KES 800 credit.
    assert "KES 300" in text and "KES 2,000" in text and "KES 800" in text
    table = text[text.index('<nav class="tabs"') :]  # below the action forms
    assert table.index("QAB12CD34E") < table.index("cash")  # newest first
    assert "Older" not in text


def test_transactions_page_through_a_long_ledger(
    login: Login, services: CoreServices, staff: Actor, clock: FrozenClock, shop: Shop
) -> None:
    with services.unit_of_work() as uow:
        customer = _customer(uow, shop.unpaid)
        for number in range(30):
            clock.advance(timedelta(minutes=1))
            record_payment(uow, customer.id, staff, IncomingPayment(10, "cash", f"R{number:03}"))
        uow.commit()
    client = login("viewer")
    first = client.get(f"/staff/customers/{shop.unpaid}/transactions")
    assert "R029" in first.text and "R000" not in first.text and "page=2" in first.text
    second = client.get(f"/staff/customers/{shop.unpaid}/transactions", params={"page": "2"})
    assert second.status_code == 200 and "R000" in second.text and "R029" not in second.text
    beyond = client.get(f"/staff/customers/{shop.unpaid}/transactions", params={"page": "9"})
    assert beyond.status_code == 200 and "No more transactions" in beyond.text


def test_invoices_list_documents_with_pdf_links_that_serve_pdfs(
    login: Login, services: CoreServices, staff: Actor, shop: Shop
) -> None:
    client = login("viewer")
    page = client.get(f"/staff/customers/{shop.paid}/invoices")
    assert page.status_code == 200
    assert "INV-" in page.text and "RCT-" in page.text
    links = [
        part.split('"')[0]
        for part in page.text.split('href="')
        if part.split('"')[0].endswith(".pdf")
    ]
    assert any("/invoices/" in link for link in links)
    assert any("/receipts/" in link for link in links)
    for link in links:
        pdf = client.get(link)
        assert pdf.status_code == 200, pdf.text
        assert pdf.headers["content-type"] == "application/pdf"
        assert pdf.content.startswith(b"%PDF")
        # Another customer's number under this one's path is not found.
        other = client.get(link.replace(shop.paid, shop.unpaid))
        assert other.status_code == 404
        assert not other.content.startswith(b"%PDF")


def test_an_unknown_or_garbage_invoice_number_is_refused(login: Login, shop: Shop) -> None:
    client = login("viewer")
    missing = client.get(f"/staff/customers/{shop.paid}/invoices/99999.pdf")
    assert missing.status_code == 404
    garbage = client.get(f"/staff/customers/{shop.paid}/invoices/evil.pdf")
    assert garbage.status_code in (400, 404)
    assert not garbage.content.startswith(b"%PDF")
    assert client.get(f"/staff/customers/{shop.paid}/receipts/99999.pdf").status_code == 404


def test_sub_accounts_list_children_and_a_child_links_its_parent(
    login: Login, services: CoreServices, staff: Actor, shop: Shop
) -> None:
    with services.unit_of_work() as uow:
        created = create_customer(
            uow,
            staff,
            NewCustomer(
                full_name="Wanjiku Office",
                phone="+254712345678",
                connection_type="pppoe",
                plan="Home 20M",
                router="core-1",
                parent=shop.paid,
                send_welcome=False,
            ),
        )
        uow.commit()
        child = created.customer.account_number
    client = login("viewer")
    parent_page = client.get(f"/staff/customers/{shop.paid}/sub-accounts")
    assert "Wanjiku Office" in parent_page.text and "Home 20M" in parent_page.text
    assert f'href="/staff/customers/{child}"' in parent_page.text
    child_page = client.get(f"/staff/customers/{child}/sub-accounts")
    assert f'href="/staff/customers/{shop.paid}"' in child_page.text
    assert "No sub-accounts" in child_page.text


def _sample(services: CoreServices, clock: FrozenClock, account: str, down: int, up: int) -> None:
    with services.unit_of_work() as uow:
        customer = _customer(uow, account)
        assert customer.router_id is not None
        reading = SessionReading(customer.username, "pppoe", "*1A", "10.10.0.9", 600, down, up)
        record_usage(uow, customer.router_id, clock.now(), [reading])
        uow.commit()


def test_live_usage_shows_the_session_rate_uptime_and_period(
    login: Login, services: CoreServices, clock: FrozenClock, shop: Shop
) -> None:
    _sample(services, clock, shop.paid, 1_000_000, 100_000)
    clock.advance(timedelta(seconds=60))
    _sample(services, clock, shop.paid, 61_000_000, 6_100_000)
    client = login("viewer")
    page = client.get(f"/staff/customers/{shop.paid}/usage")
    assert page.status_code == 200
    text = page.text
    assert "10.10.0.9" in text and "down" in text
    assert "8 Mbit/s" in text or "8.0 Mbit/s" in text or "Mbit" in text  # 60 MB in 60 s
    assert f'hx-get="/staff/customers/{shop.paid}/usage/live"' in text
    assert 'hx-trigger="every 5s"' in text and 'hx-swap="outerHTML"' in text
    assert f'href="/staff/customers/{shop.paid}/usage">Refresh' in text
    fragment = client.get(f"/staff/customers/{shop.paid}/usage/live")
    assert fragment.status_code == 200
    assert "10.10.0.9" in fragment.text and "<html" not in fragment.text
    assert 'id="usage-live"' in fragment.text


def test_live_usage_without_a_session_says_so(login: Login, shop: Shop) -> None:
    page = login("viewer").get(f"/staff/customers/{shop.unpaid}/usage")
    assert page.status_code == 200 and "no session right now" in page.text


def test_daily_usage_draws_a_chart_and_a_table_for_the_range(
    login: Login, services: CoreServices, clock: FrozenClock, shop: Shop
) -> None:
    _sample(services, clock, shop.paid, 0, 0)
    clock.advance(timedelta(minutes=5))
    _sample(services, clock, shop.paid, 3_000_000_000, 500_000_000)
    client = login("viewer")
    page = client.get(f"/staff/customers/{shop.paid}/daily-usage")
    assert page.status_code == 200
    text = page.text
    assert '<svg class="chart"' in text and 'class="bar bar-0"' in text
    assert "Download" in text and "Upload" in text
    assert "3 GB" in text or "3.0 GB" in text
    assert text.count("<tr>") == 1 + 30  # header and the last 30 days
    today = clock.now().date()
    narrow = client.get(
        f"/staff/customers/{shop.paid}/daily-usage",
        params={"from": str(today - timedelta(days=2)), "to": str(today)},
    )
    assert narrow.status_code == 200 and narrow.text.count("<tr>") == 1 + 3


@pytest.mark.parametrize(
    "params",
    [
        {"from": "yesterday"},
        {"to": "2026-13-01"},
        {"from": "2026-02-01", "to": "2026-01-01"},
        {"from": "2024-01-01", "to": "2026-01-01"},
    ],
)
def test_bad_daily_usage_dates_are_400(login: Login, shop: Shop, params: dict[str, str]) -> None:
    response = login("viewer").get(f"/staff/customers/{shop.paid}/daily-usage", params=params)
    assert response.status_code == 400
    assert "<svg" not in response.text


def test_extensions_show_when_how_much_by_whom_and_why(
    login: Login, services: CoreServices, staff: Actor, shop: Shop
) -> None:
    with services.unit_of_work() as uow:
        customer = _customer(uow, shop.paid)
        for reason in ("outage in Kasarani", "goodwill", "router swap", "late install"):
            extend(uow, customer.id, staff, days=2, reason=reason)
        uow.commit()
    page = login("viewer").get(f"/staff/customers/{shop.paid}/extensions")
    assert page.status_code == 200
    text = page.text
    # All of them, not only the card's last three.
    for reason in ("outage in Kasarani", "goodwill", "router swap", "late install"):
        assert reason in text
    assert "2d" in text and "command line" in text


def test_sms_history_shows_both_directions_with_delivery_status(
    login: Login, services: CoreServices, staff: Actor, clock: FrozenClock, shop: Shop
) -> None:
    with services.unit_of_work() as uow:
        customer = _customer(uow, shop.paid)
        delivered = send_customer_sms(uow, customer.id, staff, "Maintenance tonight 10pm")
        failed = send_customer_sms(uow, customer.id, staff, "Second notice")
        uow.session.flush()
        record_sent(uow, delivered.id, SmsSent("ATX1", "KES 0.8", "sent"))
        record_delivery(uow, "ATX1", Delivery.DELIVERED)
        record_sent(uow, failed.id, SmsSent("ATX2", None, "sent"))
        record_delivery(uow, "ATX2", Delivery.FAILED, "AbsentSubscriber")
        clock.advance(timedelta(minutes=3))
        record_inbound(
            uow,
            provider_id="in-1",
            phone="+254712345678",
            text="BAL",
            command="BAL",
            customer_id=customer.id,
        )
        uow.commit()
    page = login("viewer").get(f"/staff/customers/{shop.paid}/sms")
    assert page.status_code == 200
    text = page.text
    assert "Maintenance tonight 10pm" in text and "Second notice" in text
    assert "delivered" in text and "failed" in text and "AbsentSubscriber" in text
    assert "from customer" in text and "to customer" in text
    assert text.index("BAL") < text.index("Maintenance")  # newest first


def test_logs_show_who_what_before_after_and_reason(
    login: Login, services: CoreServices, staff: Actor, shop: Shop
) -> None:
    with services.unit_of_work() as uow:
        customer = _customer(uow, shop.paid)
        suspend(uow, customer.id, staff, "abusive use")
        uow.commit()
    page = login("viewer").get(f"/staff/customers/{shop.paid}/logs")
    assert page.status_code == 200
    text = page.text
    assert "suspended" in text and "abusive use" in text and "→" in text
    assert "command line" in text


def test_notes_show_staff_notes_and_the_customers_tickets(
    login: Login, services: CoreServices, staff: Actor, shop: Shop
) -> None:
    with services.unit_of_work() as uow:
        customer = _customer(uow, shop.paid)
        add_note(uow, customer.id, staff, "Prefers calls after 5pm")
        opened = open_ticket(
            uow, customer.phone or "", customer.id, TicketCategory.SLOW, "ussd", "very slow"
        )
        uow.commit()
    page = login("viewer").get(f"/staff/customers/{shop.paid}/notes")
    assert page.status_code == 200
    text = page.text
    assert "Prefers calls after 5pm" in text and "command line" in text
    assert f'href="/staff/tickets/{opened.ticket_id}"' in text
    assert "open" in text and "SLOW internet" in text and "nobody" in text
    other = login("viewer").get(f"/staff/customers/{shop.unpaid}/notes")
    assert "Prefers calls" not in other.text and "No tickets" in other.text


def test_a_message_carrying_a_secret_stays_masked(
    login: Login, services: CoreServices, shop: Shop
) -> None:
    with services.unit_of_work() as uow:
        customer = _customer(uow, shop.paid)
        queue_sms(
            uow,
            customer.phone or "",
            f"Your password is {SECRET_MASK}",
            "login",
            customer.id,
            secret="hunter2-secret",
        )
        uow.commit()
    page = login("viewer").get(f"/staff/customers/{shop.paid}/sms")
    assert SECRET_MASK in page.text and "hunter2-secret" not in page.text
    assert "queued" in page.text
