"""Deleting a customer: refused while money or time is left, forced by admins only, personal data
erased, money records and audit kept, account number never given to anyone else."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from core import account_numbers
from core.credentials import is_valid_username
from core.errors import CustomerNotFound, DeletionRefused, PermissionDenied
from core.events import CustomerRemoved
from core.lookup import find, get_customer, resolve
from core.models import InboundSms, LedgerEntry, Payment, SmsMessage, Subscription, Ticket
from core.testing import TEST_EPOCH
from core.usecases.billing import IncomingPayment, record_debt, record_payment
from core.usecases.customers import (
    ERASED,
    CustomerChanges,
    delete_customer,
    edit_customer,
)
from core.usecases.selfservice import reply_by_sms
from core.usecases.service import suspend
from core.usecases.sms_history import record_inbound
from core.usecases.tickets import TicketCategory, open_ticket

PERIOD = timedelta(days=30)


def test_refused_while_the_customer_has_credit(run, staff, make_customer, view) -> None:
    customer_id = make_customer()
    run(record_payment, customer_id, staff, IncomingPayment(500, "cash"), activate=False)
    with pytest.raises(DeletionRefused, match="KES 500 credit"):
        run(delete_customer, customer_id, staff)
    assert view(customer_id).deleted_at is None


@pytest.mark.parametrize("suspended", [False, True])
def test_refused_while_paid_time_is_left(run, staff, make_customer, view, suspended) -> None:
    customer_id = make_customer(paid=1500)
    if suspended:
        run(suspend, customer_id, staff, "moving house")
    with pytest.raises(DeletionRefused, match="paid time left"):
        run(delete_customer, customer_id, staff)
    assert view(customer_id).deleted_at is None


def test_allowed_once_the_paid_time_is_over(run, staff, make_customer, view, clock) -> None:
    customer_id = make_customer(paid=1500)
    clock.set(TEST_EPOCH + PERIOD)
    run(delete_customer, customer_id, staff)
    assert view(customer_id).deleted_at == clock.now()


def test_a_debt_does_not_block_deletion_and_stays_in_the_ledger(
    run, staff, make_customer, view
) -> None:
    customer_id = make_customer()
    run(record_debt, customer_id, staff, 700, start_service=False)
    run(delete_customer, customer_id, staff)
    assert view(customer_id).balance_kes == -700


def test_refused_with_live_sub_accounts_even_when_forced(run, staff, make_customer, view):
    parent = make_customer(full_name="Acme Ltd")
    child = make_customer(full_name="Acme Desk", parent=view(parent).account_number)
    with pytest.raises(DeletionRefused, match="1 sub-account"):
        run(delete_customer, parent, staff, force=True)
    run(delete_customer, child, staff)
    run(delete_customer, parent, staff)
    assert view(parent).deleted_at is not None


@pytest.mark.parametrize("role", ["staff", "admin"])
def test_owner_and_admin_may_force(request, run, make_customer, view, role) -> None:
    actor = request.getfixturevalue(role)
    customer_id = make_customer(paid=2000)
    run(delete_customer, customer_id, actor, force=True, reason="left the estate")
    stored = view(customer_id)
    assert stored.deleted_at is not None
    assert stored.balance_kes == 500


@pytest.mark.parametrize("role", ["agent", "viewer"])
@pytest.mark.parametrize("force", [False, True])
def test_agents_and_viewers_may_not_delete(request, run, make_customer, view, role, force):
    actor = request.getfixturevalue(role)
    customer_id = make_customer()
    with pytest.raises(PermissionDenied):
        run(delete_customer, customer_id, actor, force=force)
    assert view(customer_id).deleted_at is None


@pytest.fixture
def deleted(run, staff, make_customer, clock) -> int:
    """A customer with history (an edit, an M-Pesa payment) deleted after their time ran out."""
    customer_id = make_customer(
        full_name="Jane Wairimu",
        phone="0722111222",
        email="jane@example.com",
        physical_address="Thika Road",
        notes="blue gate",
        username="jane.w",
    )
    run(edit_customer, customer_id, staff, CustomerChanges(phone="0733000111"))
    run(
        record_payment,
        customer_id,
        staff,
        IncomingPayment(
            1500, "mpesa", "RKA1", payer_phone="+254733000111", payer_name="JANE WAIRIMU"
        ),
    )
    clock.set(TEST_EPOCH + PERIOD)
    run(delete_customer, customer_id, staff, reason="asked to leave")
    return customer_id


def test_personal_data_is_erased_from_the_customer(deleted, view) -> None:
    stored = view(deleted)
    assert stored.full_name == "Deleted customer"
    assert (stored.phone, stored.email, stored.physical_address, stored.notes) == (None,) * 4
    assert (stored.password_encrypted, stored.ip_address) == (None, None)
    assert str(deleted) in stored.username
    assert not is_valid_username(stored.username)  # no live login can ever clash with it
    assert stored.account_number.startswith("MTJ-")


def test_messages_to_and_from_the_customer_are_erased_but_counted(
    services, run, staff, make_customer, clock
) -> None:
    """15.3: the welcome SMS (with its login) and every text to or from the customer outlived
    the deletion. Their bodies and phone numbers go; the rows stay (SMS costs, counts)."""
    customer_id = make_customer(send_welcome=True)
    with services.unit_of_work() as uow:
        record_inbound(
            uow,
            provider_id="in-1",
            phone="+254712345678",
            text="STATUS",
            command="status",
            customer_id=customer_id,
        )
        reply_by_sms(uow, "+254712345678", "MTJ-…: Home 10M, inactive.", "status", customer_id)
        open_ticket(
            uow, "+254712345678", customer_id, TicketCategory.OTHER, "ussd", "gate code 4411"
        )
        uow.commit()
    run(delete_customer, customer_id, staff)
    with services.unit_of_work() as uow:
        sent = list(uow.session.scalars(select(SmsMessage)))
        received = list(uow.session.scalars(select(InboundSms)))
        tickets = list(uow.session.scalars(select(Ticket)))
        uow.session.expunge_all()
    assert {m.kind.split(":")[0] for m in sent} == {"welcome", "self"}
    assert [(m.body, m.phone, m.secret_encrypted) for m in sent] == [(ERASED, "", None)] * len(sent)
    assert [(m.text, m.phone) for m in received] == [(ERASED, "")]
    assert [(t.phone, t.note) for t in tickets] == [("", None)]


def test_personal_data_is_erased_from_payments_but_the_money_stays(services, deleted) -> None:
    with services.unit_of_work() as uow:
        payment = uow.session.scalars(select(Payment)).one()
        assert (payment.payer_phone, payment.payer_name) == (None, None)
        assert (payment.amount_kes, payment.reference, payment.customer_id) == (
            1500,
            "RKA1",
            deleted,
        )
        kinds = sorted(uow.session.scalars(select(LedgerEntry.kind)))
        assert kinds == ["payment", "plan_charge"]
        assert len(uow.session.scalars(select(Subscription)).all()) == 1


def test_personal_data_is_erased_from_the_audit_trail_which_is_kept(
    services, deleted, audit_events
) -> None:
    actions = [event.action for event in audit_events(customer_id=deleted)]
    assert actions[0] == "customer.create"
    assert actions[-1] == "customer.delete"
    assert "customer.edit" in actions and "payment.record" in actions
    text = repr([(event.before, event.after) for event in audit_events()])
    for personal in (
        "Jane",
        "Wairimu",
        "254722111222",
        "254733000111",
        "jane@",
        "Thika",
        "blue gate",
        "jane.w",
        "10.10.0.2",
    ):
        assert personal not in text
    (created,) = audit_events("customer.create")
    assert created.after["full_name"] == created.after["phone"] == ERASED
    assert created.after["status"] == "inactive"
    (edit,) = audit_events("customer.edit")
    assert edit.before == {"phone": ERASED} and edit.after == {"phone": ERASED}
    (removal,) = audit_events("customer.delete")
    assert removal.reason == "asked to leave"
    assert removal.before == {"status": "active", "forced": False}
    assert removal.after == {"deleted": True}


def test_the_router_is_told_to_remove_the_login(run, staff, make_customer, dispatcher) -> None:
    customer_id = make_customer(username="leaver")
    dispatcher.events.clear()
    run(delete_customer, customer_id, staff)
    (removed,) = dispatcher.of_type(CustomerRemoved)
    assert (removed.customer_id, removed.username, removed.connection_type) == (
        customer_id,
        "leaver",
        "pppoe",
    )
    assert removed.router_id is not None


def test_deleted_customer_is_no_longer_found(run, staff, deleted, view) -> None:
    number = view(deleted).account_number
    with pytest.raises(CustomerNotFound):
        run(resolve, number)
    with pytest.raises(CustomerNotFound):
        run(get_customer, deleted)
    assert run(find, "deleted") == []
    with pytest.raises(CustomerNotFound):
        run(delete_customer, deleted, staff)


def test_username_is_freed(run, deleted, make_customer, view) -> None:
    assert view(make_customer(username="jane.w")).username == "jane.w"


def test_account_number_is_never_given_again(deleted, make_customer, view, monkeypatch) -> None:
    taken = view(deleted).account_number
    fresh = "MTJ-ABCDEF" + account_numbers.check_character("ABCDEF")
    offers = [taken] * 50 + [fresh]
    monkeypatch.setattr(account_numbers, "generate", lambda prefix: offers.pop(0))
    assert view(make_customer()).account_number == fresh
    assert offers == []


def test_a_live_username_never_blocks_deleting_someone_else(run, staff, make_customer, view):
    """The erased username is a placeholder no live login can have."""
    leaver = make_customer()
    squatter = make_customer(username=f"deleted-{leaver}")
    run(delete_customer, leaver, staff)
    assert view(leaver).deleted_at is not None
    assert not is_valid_username(view(leaver).username)
    assert view(squatter).username == f"deleted-{leaver}"
