"""Issue 16: the additional account number, staff notes, resending the login and showing the
password (admins only, audited, never stored in clear)."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update

from core import account_numbers
from core.errors import Conflict, InvalidInput, PermissionDenied
from core.history import HistoryTab, customer_history
from core.lookup import resolve
from core.models import Customer, SmsMessage
from core.usecases.account_details import add_note, send_login, show_password
from core.usecases.customers import CustomerChanges, delete_customer, edit_customer
from core.usecases.sms import SECRET_MASK, claim_for_sending

# -- the additional account number ---------------------------------------------------------------


def test_a_typed_second_account_number_is_stored_upper_case(
    run, staff, make_customer, view, audit_events
) -> None:
    customer_id = make_customer()
    run(edit_customer, customer_id, staff, CustomerChanges(account_number2=" acc-0042 "))
    assert view(customer_id).account_number2 == "ACC-0042"
    [event] = audit_events("customer.edit")
    assert event.before == {"account_number2": None}
    assert event.after == {"account_number2": "ACC-0042"}


def test_a_generated_second_account_number_uses_the_account_scheme(
    run, staff, make_customer, view
) -> None:
    customer_id = make_customer()
    run(edit_customer, customer_id, staff, CustomerChanges(generate_account_number2=True))
    second = view(customer_id).account_number2
    assert second is not None and second != view(customer_id).account_number
    assert account_numbers.parse(second, "MTJ") == second


def test_an_empty_second_account_number_clears_it(run, staff, make_customer, view) -> None:
    customer_id = make_customer()
    run(edit_customer, customer_id, staff, CustomerChanges(account_number2="OLD-7"))
    run(edit_customer, customer_id, staff, CustomerChanges(account_number2=""))
    assert view(customer_id).account_number2 is None


@pytest.mark.parametrize(
    "typed",
    ["has space", "semi;colon", "x" * 21, "ünï", "a/b"],
)
def test_a_badly_typed_second_account_number_is_refused(
    run, staff, make_customer, view, typed
) -> None:
    customer_id = make_customer()
    with pytest.raises(InvalidInput):
        run(edit_customer, customer_id, staff, CustomerChanges(account_number2=typed))
    assert view(customer_id).account_number2 is None


def test_a_second_account_number_is_unique_across_both_columns_ignoring_case(
    run, staff, make_customer, view
) -> None:
    first = make_customer()
    second = make_customer(full_name="Otieno Juma", phone="0722000111")
    run(edit_customer, first, staff, CustomerChanges(account_number2="ACC-1"))
    with pytest.raises(Conflict):
        run(edit_customer, second, staff, CustomerChanges(account_number2="acc-1"))
    primary = view(first).account_number
    with pytest.raises(Conflict):
        run(edit_customer, second, staff, CustomerChanges(account_number2=primary.lower()))
    # Without its prefix it still reads as the first customer's number: refused too.
    with pytest.raises(Conflict):
        run(
            edit_customer,
            second,
            staff,
            CustomerChanges(account_number2=primary.removeprefix("MTJ-")),
        )
    assert view(second).account_number2 is None


def test_staff_find_a_customer_by_the_second_account_number(
    run, services, staff, make_customer
) -> None:
    customer_id = make_customer()
    run(edit_customer, customer_id, staff, CustomerChanges(account_number2="ACC0001"))
    with services.unit_of_work() as uow:
        assert resolve(uow, "acc0001").id == customer_id


def test_new_account_numbers_never_repeat_a_second_one(
    services, run, staff, make_customer, view, monkeypatch
) -> None:
    first = make_customer()
    run(edit_customer, first, staff, CustomerChanges(generate_account_number2=True))
    taken = view(first).account_number2
    fresh = account_numbers.generate("MTJ")
    picks = iter([taken, fresh])
    monkeypatch.setattr(account_numbers, "generate", lambda prefix: next(picks))
    second = make_customer(full_name="Otieno Juma", phone="0722000111")
    assert view(second).account_number == fresh


def test_the_edit_needs_a_role_that_manages_customers(run, agent, make_customer) -> None:
    customer_id = make_customer()
    with pytest.raises(PermissionDenied):
        run(edit_customer, customer_id, agent, CustomerChanges(account_number2="ACC-9"))


# -- notes ---------------------------------------------------------------------------------------


def test_a_note_is_audited_and_shown_in_the_history_with_date_and_staff_name(
    run, services, agent, make_customer, audit_events, clock
) -> None:
    customer_id = make_customer()
    run(add_note, customer_id, agent, "  Called: router is on the\nwrong socket ")
    [event] = audit_events("customer.note")
    assert event.actor_name == "Otieno Agent"
    assert event.after == {"note": "Called: router is on the\nwrong socket"}
    with services.unit_of_work() as uow:
        page = customer_history(uow, customer_id, HistoryTab.ALL)
    [line] = [line for line in page.lines if "note" in line.summary]
    assert line.summary == "note: Called: router is on the\nwrong socket"
    assert line.by == "staff:Otieno Agent" and line.at == clock.now()


@pytest.mark.parametrize("text", ["", "   ", "x" * 1001])
def test_an_empty_or_overlong_note_is_refused(run, agent, make_customer, text) -> None:
    customer_id = make_customer()
    with pytest.raises(InvalidInput):
        run(add_note, customer_id, agent, text)


def test_a_viewer_may_not_write_notes(run, viewer, make_customer) -> None:
    customer_id = make_customer()
    with pytest.raises(PermissionDenied):
        run(add_note, customer_id, viewer, "hello")


def test_deleting_a_customer_erases_their_notes(run, staff, make_customer, audit_events) -> None:
    customer_id = make_customer()
    run(add_note, customer_id, staff, "lives behind the blue gate")
    run(delete_customer, customer_id, staff, force=True)
    [event] = audit_events("customer.note")
    assert event.after == {"note": "[erased]"}


# -- the login: resent by SMS, shown to admins ---------------------------------------------------


def test_resending_the_login_keeps_the_password_masked_and_encrypted(
    run, services, agent, make_customer, audit_events
) -> None:
    customer_id = make_customer(password="s3cret-pw")
    message = run(send_login, customer_id, agent)
    with services.unit_of_work() as uow:
        stored = uow.session.get(SmsMessage, message.id)
        assert stored is not None
        assert "s3cret-pw" not in stored.body and SECRET_MASK in stored.body
        assert "wanjiku.kamau" in stored.body
        assert stored.secret_encrypted and "s3cret-pw" not in stored.secret_encrypted
        claimed = claim_for_sending(uow, message.id)
    assert claimed is not None
    phone, body = claimed.phone, claimed.body
    assert "s3cret-pw" in body and phone == "+254712345678"
    [event] = audit_events("customer.login_sent")
    assert event.actor_name == "Otieno Agent"
    assert "s3cret-pw" not in repr(event.before) + repr(event.after)


def test_a_static_customer_has_no_login_to_send(run, agent, make_customer) -> None:
    customer_id = make_customer(
        connection_type="static", plan="Business 50M", ip_address="10.10.0.3"
    )
    with pytest.raises(InvalidInput, match="static"):
        run(send_login, customer_id, agent)


def test_a_customer_without_a_phone_cannot_be_sent_the_login(
    run, services, agent, make_customer
) -> None:
    customer_id = make_customer()
    with services.unit_of_work() as uow:
        uow.session.execute(update(Customer).where(Customer.id == customer_id).values(phone=None))
        uow.commit()
    with pytest.raises(InvalidInput, match="phone"):
        run(send_login, customer_id, agent)


def test_an_admin_sees_the_password_and_it_is_audited_without_it(
    run, admin, make_customer, audit_events
) -> None:
    customer_id = make_customer(password="s3cret-pw")
    assert run(show_password, customer_id, admin) == "s3cret-pw"
    [event] = audit_events("customer.password_shown")
    assert event.actor_name == "Amina Admin"
    assert "s3cret-pw" not in repr(event.before) + repr(event.after) + repr(event.reason)


def test_an_agent_may_not_see_the_password(run, agent, make_customer, audit_events) -> None:
    customer_id = make_customer(password="s3cret-pw")
    with pytest.raises(PermissionDenied):
        run(show_password, customer_id, agent)
    assert audit_events("customer.password_shown") == []


def test_no_sms_row_ever_holds_the_clear_password(run, services, staff, make_customer) -> None:
    customer_id = make_customer(password="s3cret-pw")
    run(send_login, customer_id, staff)
    with services.unit_of_work() as uow:
        bodies = list(uow.session.scalars(select(SmsMessage.body)))
    assert bodies and all("s3cret-pw" not in body for body in bodies)
