"""Needs attention: every role sees what needs staff; only roles that may record payments see
the form that gives unmatched money to a customer, and only they may post it."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import select
from starlette.testclient import TestClient

from core.actors import Actor
from core.ledger import balance_kes
from core.lookup import by_account_number
from core.models import Payment
from core.unit_of_work import CoreServices
from core.usecases.billing import IncomingPayment, record_unmatched_payment
from tests.unit.web.conftest import ROLES, Shop, post_form

RECEIPT = "QKX0000042"


@pytest.fixture
def unmatched(services: CoreServices, staff: Actor, shop: Shop) -> str:
    """KES 1,500 by M-Pesa for an account nobody has."""
    with services.unit_of_work() as uow:
        record_unmatched_payment(
            uow,
            staff,
            IncomingPayment(
                1500, "mpesa", RECEIPT, account_reference="<b>WRONG</b>", payer_name="OTIENO"
            ),
        )
        uow.commit()
    return RECEIPT


def _owner_of(services: CoreServices, receipt: str) -> int | None:
    with services.unit_of_work() as uow:
        payment = uow.session.scalars(select(Payment).where(Payment.reference == receipt)).one()
        return payment.customer_id


def _balance(services: CoreServices, account: str) -> int:
    with services.unit_of_work() as uow:
        customer = by_account_number(uow, account)
        assert customer is not None
        return balance_kes(uow, customer.id)


@pytest.mark.parametrize("role", ROLES)
def test_every_role_sees_what_needs_attention(
    login: Callable[[str], TestClient], unmatched: str, role: str
) -> None:
    page = login(role).get("/staff/attention")
    assert page.status_code == 200
    assert "Money nobody was matched to" in page.text
    assert RECEIPT in page.text
    assert "&lt;b&gt;WRONG&lt;/b&gt;" in page.text and "<b>WRONG" not in page.text
    has_form = 'action="/staff/attention/assign"' in page.text
    assert has_form == (role != "viewer")


def test_nothing_to_do_says_so(login: Callable[[str], TestClient]) -> None:
    page = login("agent").get("/staff/attention")
    assert page.status_code == 200 and "Nothing needs attention." in page.text


def test_without_a_session_nothing_is_shown(anonymous: TestClient, unmatched: str) -> None:
    response = anonymous.get("/staff/attention")
    assert response.status_code == 303
    assert response.headers["location"].startswith("/staff/login")
    assert RECEIPT not in response.text


def test_an_agent_assigns_unmatched_money_to_a_customer(
    login: Callable[[str], TestClient], services: CoreServices, shop: Shop, unmatched: str
) -> None:
    client = login("agent")
    done = post_form(
        client,
        "/staff/attention",
        "/staff/attention/assign",
        reference=RECEIPT.lower(),
        account=shop.unpaid,
    )
    assert done.status_code == 303 and done.headers["location"] == "/staff/attention"
    with services.unit_of_work() as uow:
        customer = by_account_number(uow, shop.unpaid)
        assert customer is not None
        customer_id = customer.id
    assert _owner_of(services, RECEIPT) == customer_id
    page = client.get("/staff/attention")
    assert f"{RECEIPT} credited to {shop.unpaid}." in page.text
    assert "Payment of KES 1,500 (mpesa) recorded. Renewed 1 × Home 10M until" in page.text
    assert 'name="reference" value="QKX0000042"' not in page.text


def test_a_viewer_may_not_assign_and_nothing_changes(
    login: Callable[[str], TestClient], services: CoreServices, shop: Shop, unmatched: str
) -> None:
    refused = post_form(
        login("viewer"),
        "/staff/attention",
        "/staff/attention/assign",
        reference=RECEIPT,
        account=shop.unpaid,
    )
    assert refused.status_code == 403
    assert _owner_of(services, RECEIPT) is None
    assert _balance(services, shop.unpaid) == 0


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"reference": RECEIPT, "account": "MTJ-NOBODY"}, "MTJ-NOBODY"),
        ({"reference": RECEIPT, "account": ""}, "give the account number"),
        ({"reference": "", "account": "paid"}, "Which payment?"),
        ({"reference": "QKNOSUCH", "account": "paid"}, "no payment with reference"),
    ],
)
def test_bad_input_is_a_400_and_changes_nothing(
    login: Callable[[str], TestClient],
    services: CoreServices,
    shop: Shop,
    unmatched: str,
    fields: dict[str, str],
    message: str,
) -> None:
    if fields["account"] == "paid":
        fields = {**fields, "account": shop.paid}
    before = _balance(services, shop.paid)
    refused = post_form(login("admin"), "/staff/attention", "/staff/attention/assign", **fields)
    assert refused.status_code == 400
    assert message.lower() in refused.text.lower()
    assert _owner_of(services, RECEIPT) is None
    assert _balance(services, shop.paid) == before


def test_money_already_credited_cannot_be_assigned_again(
    login: Callable[[str], TestClient], services: CoreServices, shop: Shop, unmatched: str
) -> None:
    client = login("owner")
    first = post_form(
        client, "/staff/attention", "/staff/attention/assign", reference=RECEIPT, account=shop.paid
    )
    assert first.status_code == 303
    before = _balance(services, shop.paid)
    again = post_form(
        client,
        "/staff/attention",
        "/staff/attention/assign",
        reference=RECEIPT,
        account=shop.unpaid,
    )
    assert again.status_code == 400 and "already credited" in again.text
    assert _balance(services, shop.paid) == before and _balance(services, shop.unpaid) == 0


def test_a_post_without_the_form_token_is_refused(
    login: Callable[[str], TestClient], services: CoreServices, shop: Shop, unmatched: str
) -> None:
    client = login("owner")
    refused = client.post(
        "/staff/attention/assign", data={"reference": RECEIPT, "account": shop.paid}
    )
    assert refused.status_code == 403
    assert _owner_of(services, RECEIPT) is None
