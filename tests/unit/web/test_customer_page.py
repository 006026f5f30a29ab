"""The customer page: the details tab, the banner, the action forms by role and status, each
action's POST (done, refused for the role, refused for bad input), deletion and the edit form."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import func, select
from starlette.testclient import TestClient

from core.actors import Actor
from core.lookup import by_account_number
from core.models import AuditEvent, SmsMessage
from core.queries import CustomerCard, customer_card
from core.unit_of_work import CoreServices
from core.usecases.customers import NewCustomer, create_customer
from tests.unit.web.conftest import ROLES, Shop, post_form, row_count

Login = Callable[[str], TestClient]


def page(account: str, rest: str = "") -> str:
    return f"/staff/customers/{account}" + (f"/{rest}" if rest else "")


def card_of(services: CoreServices, account: str) -> CustomerCard | None:
    with services.unit_of_work(read_only=True) as uow:
        customer = by_account_number(uow, account)
        return customer_card(uow, customer) if customer is not None else None


def state(services: CoreServices, account: str) -> tuple[Any, ...]:
    """What an action may change: status, expiry, balance, plan, pending plan, name, notes."""
    card = card_of(services, account)
    assert card is not None
    return (
        card.status,
        card.expires_at,
        card.balance_kes,
        card.plan,
        card.pending_plan,
        card.full_name,
        card.email,
        card.suspended_reason,
    )


def audit_count(services: CoreServices, action: str) -> int:
    return row_count(services, AuditEvent.id, AuditEvent.action == action)


def flash_after(client: TestClient, response: Any, account: str) -> str:
    """The page a 303 lands on, with its flash message."""
    assert response.status_code == 303, response.text
    assert response.headers["location"] == page(account)
    return str(client.get(page(account)).text)


# -- the details tab ----------------------------------------------------------------------------


def test_without_a_session_the_page_redirects_to_login_with_no_data(
    anonymous: TestClient, shop: Shop
) -> None:
    for path in (page(shop.paid), page(shop.paid, "edit"), page(shop.paid, "delete")):
        response = anonymous.get(path)
        assert response.status_code == 303
        assert response.headers["location"].startswith("/staff/login?next=")
        assert "Wanjiku" not in response.text and shop.paid not in response.text


def test_a_post_without_a_session_changes_nothing(
    anonymous: TestClient, shop: Shop, services: CoreServices
) -> None:
    before = state(services, shop.paid)
    response = anonymous.post(page(shop.paid, "suspend"), data={"reason": "x", "csrf": "x"})
    assert response.status_code == 303
    assert state(services, shop.paid) == before


@pytest.mark.parametrize("role", ROLES)
def test_every_role_sees_the_details(login: Login, shop: Shop, role: str) -> None:
    response = login(role).get(page(shop.paid))
    assert response.status_code == 200
    text = response.text
    for fact in ("Wanjiku Kamau", shop.paid, "Home 10M", "10M down / 5M up", "KES 1,500", "core-1"):
        assert fact in text
    assert "ACTIVE" in text and "Paid until" in text and "credit KES 500" in text
    assert "••••••" in text


def test_an_unknown_or_malformed_account_is_refused(login: Login, shop: Shop) -> None:
    viewer = login("viewer")
    assert viewer.get(page("MTJ-NOPE")).status_code == 404  # names no page
    with_another_number = shop.paid[:-3] + ("222" if shop.paid[-3:] != "222" else "333")
    assert viewer.get(page(with_another_number)).status_code in (400, 404)


def test_a_customer_never_paid_shows_pending(login: Login, shop: Shop) -> None:
    text = login("agent").get(page(shop.unpaid)).text
    assert "PENDING" in text and "No paid time yet" in text


def test_an_admin_reveals_the_password_once_and_it_is_audited(
    login: Login, shop: Shop, services: CoreServices
) -> None:
    admin = login("admin")
    assert "Reveal" in admin.get(page(shop.paid)).text
    response = post_form(admin, page(shop.paid), page(shop.paid, "reveal-password"))
    assert response.status_code == 200
    assert 'class="secret"' in response.text
    assert "mteja_flash" not in response.headers.get("set-cookie", "")
    assert audit_count(services, "customer.password_shown") == 1
    assert 'class="secret"' not in admin.get(page(shop.paid)).text


@pytest.mark.parametrize("role", ["agent", "viewer"])
def test_other_roles_cannot_reveal_the_password(
    login: Login, shop: Shop, services: CoreServices, role: str
) -> None:
    client = login(role)
    assert "Reveal" not in client.get(page(shop.paid)).text
    response = post_form(client, page(shop.paid), page(shop.paid, "reveal-password"))
    assert response.status_code == 403
    assert 'class="secret"' not in response.text
    assert audit_count(services, "customer.password_shown") == 0


# -- which forms each role sees -------------------------------------------------------------------


def test_the_forms_follow_the_role_and_the_status(login: Login, shop: Shop) -> None:
    viewer = login("viewer").get(page(shop.paid)).text
    assert 'class="action"' not in viewer and "/edit" not in viewer and "/delete" not in viewer
    agent = login("agent").get(page(shop.paid)).text
    for path in ("/pay", "/details-sms", "/disconnect", "/note"):
        assert path + '"' in agent
    for path in ("/suspend", "/debt", "/extend", "/plan", "/edit", "/delete"):
        assert path + '"' not in agent
    admin = login("admin").get(page(shop.paid)).text
    for path in ("/suspend", "/debt", "/extend", "/plan", "/edit", "/delete"):
        assert path + '"' in admin
    assert '/unsuspend"' not in admin


# -- money --------------------------------------------------------------------------------------


def test_an_agent_records_a_payment_that_renews(
    login: Login, shop: Shop, services: CoreServices
) -> None:
    agent = login("agent")
    response = post_form(
        agent,
        page(shop.unpaid),
        page(shop.unpaid, "pay"),
        amount="1,500",
        method="cash",
        activate="1",
    )
    text = flash_after(agent, response, shop.unpaid)
    assert "Payment of KES 1,500 (cash) recorded. Renewed 1 × Home 10M until" in text
    card = card_of(services, shop.unpaid)
    assert card is not None and card.status == "active"


def test_a_payment_without_activate_stays_as_credit(
    login: Login, shop: Shop, services: CoreServices
) -> None:
    agent = login("agent")
    response = post_form(
        agent, page(shop.unpaid), page(shop.unpaid, "pay"), amount="1500", method="cash"
    )
    assert "Not activated: it stays as credit." in flash_after(agent, response, shop.unpaid)
    card = card_of(services, shop.unpaid)
    assert card is not None and card.status == "inactive" and card.balance_kes == 1500


@pytest.mark.parametrize(
    ("amount", "method", "message"),
    [
        ("abc", "cash", "whole number of shillings"),
        ("-5", "cash", "must be more than 0"),
        ("0", "cash", "must be more than 0"),
        ("9" * 40, "cash", "at most"),
        ("100", "gold", "Payment method must be one of"),
        ("100", "mpesa", "receipt number"),
    ],
)
def test_a_bad_payment_is_refused_and_changes_nothing(
    login: Login, shop: Shop, services: CoreServices, amount: str, method: str, message: str
) -> None:
    before = state(services, shop.paid)
    response = post_form(
        login("agent"),
        page(shop.paid),
        page(shop.paid, "pay"),
        amount=amount,
        method=method,
        activate="1",
    )
    assert response.status_code == 400
    assert message in response.text
    assert state(services, shop.paid) == before


@pytest.mark.parametrize(
    ("role", "action", "fields"),
    [
        ("viewer", "pay", {"amount": "100", "method": "cash"}),
        ("agent", "extend", {"days": "3"}),
        ("agent", "plan", {"plan": "Home 20M", "timing": "now"}),
        ("agent", "suspend", {"reason": "x"}),
    ],
)
def test_a_role_without_the_permission_changes_nothing(
    login: Login, shop: Shop, services: CoreServices, role: str, action: str, fields: dict[str, str]
) -> None:
    before = state(services, shop.paid)
    response = post_form(login(role), page(shop.paid), page(shop.paid, action), **fields)
    assert response.status_code == 403
    assert state(services, shop.paid) == before


def test_an_admin_records_a_debt_that_starts_service(
    login: Login, shop: Shop, services: CoreServices
) -> None:
    admin = login("admin")
    response = post_form(
        admin,
        page(shop.unpaid),
        page(shop.unpaid, "debt"),
        amount="1500",
        note="till Friday",
        start_service="1",
    )
    text = flash_after(admin, response, shop.unpaid)
    assert "Debt of KES 1,500 recorded; balance debt KES 1,500. Service started until" in text
    card = card_of(services, shop.unpaid)
    assert card is not None and card.status == "active" and card.balance_kes == -1500


def test_a_debt_refused_for_an_agent_or_bad_amount(
    login: Login, shop: Shop, services: CoreServices
) -> None:
    before = state(services, shop.unpaid)
    agent = post_form(login("agent"), page(shop.unpaid), page(shop.unpaid, "debt"), amount="1500")
    assert agent.status_code == 403
    bad = post_form(login("admin"), page(shop.unpaid), page(shop.unpaid, "debt"), amount="x")
    assert bad.status_code == 400
    assert state(services, shop.unpaid) == before


# -- service ------------------------------------------------------------------------------------


def test_an_admin_extends_by_days(login: Login, shop: Shop, services: CoreServices) -> None:
    before = card_of(services, shop.paid)
    admin = login("admin")
    response = post_form(
        admin, page(shop.paid), page(shop.paid, "extend"), days="3", until="", reason="outage"
    )
    assert "Expiry moved to" in flash_after(admin, response, shop.paid)
    after = card_of(services, shop.paid)
    assert before is not None and after is not None and before.expires_at is not None
    assert after.expires_at is not None
    assert (after.expires_at - before.expires_at).days == 3


@pytest.mark.parametrize(
    ("days", "until"), [("", ""), ("3", "2030-01-01"), ("abc", ""), ("-2", ""), ("", "2001-01-01")]
)
def test_a_bad_extension_is_refused(
    login: Login, shop: Shop, services: CoreServices, days: str, until: str
) -> None:
    before = state(services, shop.paid)
    response = post_form(
        login("admin"), page(shop.paid), page(shop.paid, "extend"), days=days, until=until
    )
    assert response.status_code == 400
    assert state(services, shop.paid) == before


def test_a_plan_change_at_renewal_then_now_reports_what_it_cancels(
    login: Login, shop: Shop, services: CoreServices
) -> None:
    admin = login("admin")
    later = post_form(
        admin, page(shop.paid), page(shop.paid, "plan"), plan="Home 20M", timing="renewal"
    )
    assert "Home 20M starts at the next renewal." in flash_after(admin, later, shop.paid)
    card = card_of(services, shop.paid)
    assert card is not None and card.pending_plan == "Home 20M" and card.plan == "Home 10M"
    assert "cancels the change to Home 20M" in admin.get(page(shop.paid)).text
    # Choosing the current plan again for the renewal cancels the pending one.
    back = post_form(
        admin, page(shop.paid), page(shop.paid, "plan"), plan="Home 10M", timing="renewal"
    )
    assert "The change to Home 20M is cancelled." in flash_after(admin, back, shop.paid)
    now = post_form(admin, page(shop.paid), page(shop.paid, "plan"), plan="Home 20M", timing="now")
    assert "Wanjiku Kamau (" in flash_after(admin, now, shop.paid)
    card = card_of(services, shop.paid)
    assert card is not None and card.plan == "Home 20M" and card.pending_plan is None


@pytest.mark.parametrize(
    ("plan", "timing"),
    [("Gold 1G", "now"), ("", "now"), ("Daily 5M", "now"), ("Home 20M", "tomorrow")],
)
def test_a_bad_plan_change_is_refused(
    login: Login, shop: Shop, services: CoreServices, plan: str, timing: str
) -> None:
    before = state(services, shop.paid)
    response = post_form(
        login("admin"), page(shop.paid), page(shop.paid, "plan"), plan=plan, timing=timing
    )
    assert response.status_code == 400
    assert state(services, shop.paid) == before


def test_suspend_needs_a_reason_then_unsuspend(
    login: Login, shop: Shop, services: CoreServices
) -> None:
    admin = login("admin")
    before = state(services, shop.paid)
    empty = post_form(admin, page(shop.paid), page(shop.paid, "suspend"), reason="  ")
    assert empty.status_code == 400 and "Say why" in empty.text
    assert state(services, shop.paid) == before
    done = post_form(admin, page(shop.paid), page(shop.paid, "suspend"), reason="fraud check")
    text = flash_after(admin, done, shop.paid)
    assert "Suspended Wanjiku Kamau" in text and "SUSPENDED" in text and "fraud check" in text
    assert '/unsuspend"' in text and '/suspend"' not in text
    lifted = post_form(admin, page(shop.paid), page(shop.paid, "unsuspend"))
    assert "Unsuspended: now active." in flash_after(admin, lifted, shop.paid)


def test_an_agent_disconnects_and_a_viewer_may_not(
    login: Login, shop: Shop, services: CoreServices
) -> None:
    viewer = post_form(login("viewer"), page(shop.paid), page(shop.paid, "disconnect"))
    assert viewer.status_code == 403
    assert audit_count(services, "customer.disconnect") == 0
    agent = login("agent")
    response = post_form(agent, page(shop.paid), page(shop.paid, "disconnect"))
    assert "Disconnect queued" in flash_after(agent, response, shop.paid)
    assert audit_count(services, "customer.disconnect") == 1


def test_payment_details_go_by_sms(login: Login, shop: Shop, services: CoreServices) -> None:
    def sms_count() -> int:
        with services.unit_of_work(read_only=True) as uow:
            return int(uow.session.scalar(select(func.count()).select_from(SmsMessage)) or 0)

    before = sms_count()
    viewer = post_form(login("viewer"), page(shop.paid), page(shop.paid, "details-sms"))
    assert viewer.status_code == 403 and sms_count() == before
    agent = login("agent")
    response = post_form(agent, page(shop.paid), page(shop.paid, "details-sms"))
    assert "Sent by SMS to 0712 345678" in flash_after(agent, response, shop.paid)
    assert sms_count() == before + 1


def test_notes(login: Login, shop: Shop, services: CoreServices) -> None:
    viewer = post_form(login("viewer"), page(shop.paid), page(shop.paid, "note"), note="hi")
    assert viewer.status_code == 403
    agent = login("agent")
    empty = post_form(agent, page(shop.paid), page(shop.paid, "note"), note=" ")
    assert empty.status_code == 400
    assert audit_count(services, "customer.note") == 0
    done = post_form(agent, page(shop.paid), page(shop.paid, "note"), note="Router on the roof")
    assert "Note added." in flash_after(agent, done, shop.paid)
    assert audit_count(services, "customer.note") == 1


# -- deletion -----------------------------------------------------------------------------------


def test_deleting_asks_first_and_a_customer_without_money_goes(
    login: Login, shop: Shop, services: CoreServices
) -> None:
    admin = login("admin")
    question = admin.get(page(shop.unpaid, "delete"))
    assert question.status_code == 200
    assert "Personal data is erased" in question.text and "Yes, delete" in question.text
    assert card_of(services, shop.unpaid) is not None
    response = post_form(admin, page(shop.unpaid, "delete"), page(shop.unpaid, "delete"), force="0")
    assert response.status_code == 303
    assert response.headers["location"] == "/staff/customers"
    assert card_of(services, shop.unpaid) is None


def test_credit_refuses_deletion_until_forced(
    login: Login, shop: Shop, services: CoreServices
) -> None:
    admin = login("admin")
    refused = post_form(admin, page(shop.paid, "delete"), page(shop.paid, "delete"), force="0")
    assert refused.status_code == 400
    assert "Not deleted: the customer has KES 500 credit; refund or force it." in refused.text
    assert "Delete anyway" in refused.text
    assert card_of(services, shop.paid) is not None
    forced_page = admin.get(page(shop.paid, "delete") + "?force=1")
    assert "ANYWAY" in forced_page.text
    forced = post_form(
        admin, page(shop.paid, "delete") + "?force=1", page(shop.paid, "delete"), force="1"
    )
    assert forced.status_code == 303
    assert card_of(services, shop.paid) is None


def test_an_agent_may_not_delete(login: Login, shop: Shop, services: CoreServices) -> None:
    agent = login("agent")
    assert agent.get(page(shop.unpaid, "delete")).status_code == 403
    response = post_form(agent, page(shop.unpaid), page(shop.unpaid, "delete"), force="0")
    assert response.status_code == 403
    assert card_of(services, shop.unpaid) is not None


def test_a_garbage_force_is_refused(login: Login, shop: Shop, services: CoreServices) -> None:
    admin = login("admin")
    assert admin.get(page(shop.unpaid, "delete") + "?force=evil").status_code == 400
    response = post_form(admin, page(shop.unpaid), page(shop.unpaid, "delete"), force="yes")
    assert response.status_code == 400
    assert card_of(services, shop.unpaid) is not None


# -- editing ------------------------------------------------------------------------------------


def edit_fields(client: TestClient, account: str) -> dict[str, str]:
    """The edit form's current values, as a browser would send them back."""
    import re

    text = client.get(page(account, "edit")).text
    values = dict(re.findall(r'<input name="(\w+)" value="([^"]*)"', text))
    values["router"] = "core-1"
    values["notes"] = ""
    values["auto_renew"] = "yes"
    return values


def test_an_admin_edits_the_details(login: Login, shop: Shop, services: CoreServices) -> None:
    admin = login("admin")
    form = admin.get(page(shop.paid, "edit"))
    assert form.status_code == 200
    assert 'value="Wanjiku Kamau"' in form.text and 'value="+254712345678"' in form.text
    fields = edit_fields(admin, shop.paid)
    fields.update(full_name="Wanjiku Njeri", email="wanjiku@example.com")
    response = post_form(admin, page(shop.paid, "edit"), page(shop.paid, "edit"), **fields)
    assert "Saved: Full name, Email." in flash_after(admin, response, shop.paid)
    card = card_of(services, shop.paid)
    assert card is not None and card.full_name == "Wanjiku Njeri"
    assert card.email == "wanjiku@example.com"


def test_an_edit_leaves_fields_not_sent_as_they_are(
    login: Login, shop: Shop, services: CoreServices
) -> None:
    admin = login("admin")
    response = post_form(
        admin,
        page(shop.paid, "edit"),
        page(shop.paid, "edit"),
        email="w@example.com",
        auto_renew="no",
    )
    assert "Saved: Email, auto-renew." in flash_after(admin, response, shop.paid)
    card = card_of(services, shop.paid)
    assert card is not None and card.full_name == "Wanjiku Kamau" and card.username
    assert card.email == "w@example.com" and card.auto_renew is False and card.phone


def test_a_bad_edit_changes_nothing(login: Login, shop: Shop, services: CoreServices) -> None:
    admin = login("admin")
    before = state(services, shop.paid)
    fields = edit_fields(admin, shop.paid)
    fields.update(full_name="Someone Else", phone="not a phone")
    response = post_form(admin, page(shop.paid, "edit"), page(shop.paid, "edit"), **fields)
    assert response.status_code == 400
    maybe = post_form(admin, page(shop.paid, "edit"), page(shop.paid, "edit"), auto_renew="often")
    assert maybe.status_code == 400
    assert state(services, shop.paid) == before


def test_an_agent_may_not_edit(login: Login, shop: Shop, services: CoreServices) -> None:
    agent = login("agent")
    assert agent.get(page(shop.paid, "edit")).status_code == 403
    before = state(services, shop.paid)
    response = post_form(agent, page(shop.paid), page(shop.paid, "edit"), full_name="Someone Else")
    assert response.status_code == 403
    assert state(services, shop.paid) == before


def add_sub_account(services: CoreServices, staff: Actor, parent: str) -> str:
    with services.unit_of_work() as uow:
        created = create_customer(
            uow,
            staff,
            NewCustomer(
                full_name="Wanjiku Shop",
                phone="+254712345678",
                connection_type="hotspot",
                plan="Daily 5M",
                router="core-1",
                send_welcome=False,
                parent=parent,
            ),
        )
        uow.commit()
        return created.customer.account_number


def test_sub_accounts_go_first_and_forcing_does_not_skip_them(
    login: Login, shop: Shop, services: CoreServices, staff: Actor
) -> None:
    child = add_sub_account(services, staff, shop.paid)
    owner = login("owner")
    text = owner.get(page(child)).text
    assert f'href="/staff/customers/{shop.paid}"' in text
    refused = post_form(owner, page(shop.paid, "delete"), page(shop.paid, "delete"), force="1")
    assert refused.status_code == 400
    assert "Not deleted: delete its 1 sub-account(s) first." in refused.text
    assert "Delete anyway" not in refused.text
    gone = post_form(owner, page(child, "delete"), page(child, "delete"), force="0")
    assert gone.status_code == 303
    # A deleted sub-account leads back to its parent's page.
    assert gone.headers["location"] == page(shop.paid)
    assert card_of(services, child) is None and card_of(services, shop.paid) is not None


def test_an_agent_is_never_offered_a_forced_deletion(login: Login, shop: Shop) -> None:
    admin_forces = login("admin").get(page(shop.paid, "delete") + "?force=1")
    assert admin_forces.status_code == 200
    assert login("agent").get(page(shop.paid, "delete") + "?force=1").status_code == 403


def test_the_owner_reveals_a_hotspot_password(login: Login, shop: Shop) -> None:
    owner = login("owner")
    text = owner.get(page(shop.hotspot)).text
    assert "Daily 5M" in text and "hotspot" in text and "Reveal" in text
    response = post_form(owner, page(shop.hotspot), page(shop.hotspot, "reveal-password"))
    assert response.status_code == 200 and 'class="secret"' in response.text
