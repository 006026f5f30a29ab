"""What an adversarial reading of the console found, each fixed and kept fixed: a form sent
twice acts once, a password change ends other sessions and needs the current password, a
removed member comes back with nothing, the payment note tells the amount credited, names with
letters beyond ASCII log in, two staff cannot share a name, control characters are refused."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import func, select
from starlette.testclient import TestClient

from core.actors import Actor
from core.errors import Conflict, InvalidInput
from core.lookup import by_account_number
from core.models import Payment, StaffMember
from core.unit_of_work import CoreServices
from core.usecases.billing import IncomingPayment, record_unmatched_payment
from core.usecases.staff import add_staff, remove_staff
from core.usecases.staff_access import set_password
from core.vocabulary import Role
from tests.unit.web.conftest import STAFF_IDS, Shop, csrf_of, form_tokens, login_link

Login = Callable[[str], TestClient]


def _payments(services: CoreServices) -> int:
    with services.unit_of_work() as uow:
        return int(uow.session.scalar(select(func.count()).select_from(Payment)) or 0)


def test_a_payment_form_sent_twice_records_one_payment(
    login: Login, services: CoreServices, shop: Shop
) -> None:
    agent = login("agent")
    page = agent.get(f"/staff/customers/{shop.unpaid}")
    form = {**form_tokens(page.text), "amount": "1500", "method": "cash", "activate": "1"}
    before = _payments(services)
    first = agent.post(f"/staff/customers/{shop.unpaid}/pay", data=form)
    again = agent.post(
        f"/staff/customers/{shop.unpaid}/pay",
        data=form,
        headers={"referer": f"http://testserver/staff/customers/{shop.unpaid}"},
    )
    assert first.status_code == 303 and again.status_code == 303
    assert again.headers["location"] == f"/staff/customers/{shop.unpaid}"
    assert _payments(services) == before + 1
    shown = agent.get(again.headers["location"]).text
    assert "already sent: nothing was done twice" in shown
    # A fresh page gives a fresh token: a second, deliberate payment goes through.
    assert (
        agent.post(
            f"/staff/customers/{shop.unpaid}/pay",
            data={**form, **form_tokens(agent.get(f"/staff/customers/{shop.unpaid}").text)},
        ).status_code
        == 303
    )
    assert _payments(services) == before + 2


def test_a_money_form_without_its_one_time_token_is_refused(
    login: Login, services: CoreServices, shop: Shop
) -> None:
    agent = login("agent")
    token = csrf_of(agent.get(f"/staff/customers/{shop.unpaid}").text)
    before = _payments(services)
    refused = agent.post(
        f"/staff/customers/{shop.unpaid}/pay",
        data={"csrf": token, "amount": "1500", "method": "cash"},
    )
    assert refused.status_code == 400 and _payments(services) == before


def test_the_payment_note_tells_the_amount_credited_not_the_amount_typed(
    login: Login, services: CoreServices, shop: Shop
) -> None:
    with services.unit_of_work() as uow:
        record_unmatched_payment(uow, Actor.mpesa(), IncomingPayment(5000, "mpesa", "QAB123XYZ"))
        uow.commit()
    agent = login("agent")
    page = agent.get(f"/staff/customers/{shop.unpaid}")
    done = agent.post(
        f"/staff/customers/{shop.unpaid}/pay",
        data={
            **form_tokens(page.text),
            "amount": "100",
            "method": "mpesa",
            "reference": "qab123xyz",
        },
    )
    note = agent.get(done.headers["location"]).text
    assert "Payment of KES 5,000 (mpesa) recorded" in note
    assert "not the KES 100 typed" in note


def _password_login(client: TestClient, name: str, password: str) -> int:
    page = client.get("/staff/login")
    return client.post(
        "/staff/login", data={"csrf": csrf_of(page.text), "name": name, "password": password}
    ).status_code


def test_changing_ones_password_needs_the_current_one_and_ends_other_sessions(
    login: Login, services: CoreServices, app: object
) -> None:
    here, elsewhere = login("agent"), login("agent")
    page = here.get("/staff/staff")
    first = {"password": "first password 1", "password_again": "first password 1"}
    assert (
        here.post("/staff/staff/me/password", data={**form_tokens(page.text), **first}).status_code
        == 303
    )
    assert elsewhere.get("/staff/").status_code == 303, "the other session ended"
    assert here.get("/staff/").status_code == 200, "this one stays"

    page = here.get("/staff/staff")
    second = {"password": "second password 2", "password_again": "second password 2"}
    refused = here.post("/staff/staff/me/password", data={**form_tokens(page.text), **second})
    assert refused.status_code == 400 and "current password" in refused.text
    changed = here.post(
        "/staff/staff/me/password",
        data={**form_tokens(page.text), **second, "current_password": "first password 1"},
    )
    assert changed.status_code == 303
    browser = TestClient(app, follow_redirects=False)
    assert _password_login(browser, "Chebet Agent", "second password 2") == 303


def test_a_removed_member_added_again_has_no_session_and_no_password(
    login: Login, services: CoreServices, app: object
) -> None:
    with services.unit_of_work() as uow:
        set_password(uow, Actor.cli(), "Chebet", "agent password 1")
        uow.commit()
    old = login("agent")
    with services.unit_of_work() as uow:
        remove_staff(uow, Actor.cli(), STAFF_IDS["agent"])
        uow.commit()
    with services.unit_of_work() as uow:
        add_staff(uow, Actor.cli(), STAFF_IDS["agent"], "Chebet Agent", "agent")
        uow.commit()
    assert old.get("/staff/").status_code == 303
    assert (
        _password_login(TestClient(app, follow_redirects=False), "Chebet Agent", "agent password 1")
        == 401
    )


@pytest.mark.parametrize(
    "name, typed", [("Hans Straße", "hans strasse"), ("Émile Kariuki", "ÉMILE KARIUKI")]
)
def test_names_beyond_ascii_log_in_with_a_password(
    services: CoreServices, shop: Shop, app: object, name: str, typed: str
) -> None:
    with services.unit_of_work() as uow:
        add_staff(uow, Actor.cli(), 777, name, "agent")
        set_password(uow, Actor.cli(), "777", "a long password")
        uow.commit()
    assert _password_login(TestClient(app, follow_redirects=False), typed, "a long password") == 303


def test_two_staff_cannot_share_a_name(services: CoreServices, shop: Shop) -> None:
    with services.unit_of_work() as uow, pytest.raises(Conflict):
        add_staff(uow, Actor.cli(), 778, "chebet  AGENT", "viewer")
    with services.unit_of_work() as uow:
        names = uow.session.scalars(select(StaffMember.name)).all()
    assert len(names) == len(set(names))


def test_over_long_names_are_refused_in_words(services: CoreServices, shop: Shop) -> None:
    with services.unit_of_work() as uow, pytest.raises(InvalidInput):
        add_staff(uow, Actor.cli(), 779, "x" * 129, "viewer")


@pytest.mark.parametrize("field", ["reference", "method"])
def test_a_control_character_in_a_form_changes_nothing(
    login: Login, services: CoreServices, shop: Shop, field: str
) -> None:
    agent = login("agent")
    page = agent.get(f"/staff/customers/{shop.unpaid}")
    data = {**form_tokens(page.text), "amount": "1500", "method": "cash", field: "QAB\x00123"}
    refused = agent.post(f"/staff/customers/{shop.unpaid}/pay", data=data)
    assert refused.status_code == 400 and "control character" in refused.text
    with services.unit_of_work() as uow:
        customer = by_account_number(uow, shop.unpaid)
        assert customer is not None and customer.status == "inactive"


def test_a_nul_in_the_login_name_is_refused(anonymous: TestClient, shop: Shop) -> None:
    page = anonymous.get("/staff/login")
    refused = anonymous.post(
        "/staff/login", data={"csrf": csrf_of(page.text), "name": "a\x00b", "password": "x"}
    )
    assert refused.status_code == 400


_ = (Role, login_link)
