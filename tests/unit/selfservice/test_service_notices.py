"""Notices nobody asked for but everybody expects: the welcome with the login, the renewal paid
from credit, and the suspension. Each is queued in the same transaction as the change."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from core.actors import Actor
from core.clock import FrozenClock
from core.models import Customer, SmsMessage
from core.ports import SmsSent
from core.unit_of_work import CoreServices
from core.usecases.billing import IncomingPayment, record_payment
from core.usecases.customers import reveal_password
from core.usecases.preferences import set_language, set_reminders
from core.usecases.service import expire_due_batch, expire_if_due, suspend
from core.usecases.sms import SECRET_MASK, ClaimedSms, claim_for_sending, record_sent

WANJIKU = "+254712345678"


def messages_to(services: CoreServices, phone: str, kind_prefix: str) -> list[SmsMessage]:
    with services.unit_of_work() as uow:
        found = [
            message
            for message in uow.session.query(SmsMessage).order_by(SmsMessage.id)
            if message.phone == phone and message.kind.startswith(kind_prefix)
        ]
        uow.session.expunge_all()
        return found


def test_a_new_customer_gets_the_login_and_how_to_pay(
    services: CoreServices, subscribers, make_customer: Callable[..., int]
):
    customer_id = make_customer("0700999000", full_name="Mary Wambui", send_welcome=True)
    [welcome] = messages_to(services, "+254700999000", "welcome:")
    with services.unit_of_work() as uow:
        customer = uow.session.get(Customer, customer_id)
        assert customer is not None
        password = reveal_password(uow, customer)
        expected = (
            f"Welcome to Kasarani Net! Account {customer.account_number}, login "
            f"{customer.username}, password {password}. Pay by M-Pesa paybill 174379, account "
            f"{customer.account_number}."
        )
    # 15.3: the stored row never holds the password; the send job fills it in from the
    # encrypted copy, which is dropped once the message is sent.
    assert password not in welcome.body
    assert welcome.body == expected.replace(password, SECRET_MASK)
    assert welcome.secret_encrypted and password not in welcome.secret_encrypted
    assert welcome.customer_id == customer_id
    with services.unit_of_work() as uow:
        claimed = claim_for_sending(uow, welcome.id)
        uow.commit()
    assert claimed == ClaimedSms(welcome.id, "+254700999000", expected)
    assert len(expected) <= 160
    with services.unit_of_work() as uow:
        record_sent(uow, welcome.id, SmsSent("ATXid_1", "KES 0.8", "sent", None))
        uow.commit()
    [sent] = messages_to(services, "+254700999000", "welcome:")
    assert (sent.status, sent.secret_encrypted, sent.body) == ("sent", None, welcome.body)


def test_a_static_customer_is_told_the_address_not_a_login(
    services: CoreServices, subscribers, make_customer: Callable[..., int], staff: Actor
):
    from core.usecases.plans import PlanSpec, add_plan

    with services.unit_of_work() as uow:
        add_plan(uow, staff, PlanSpec("Office 50M", "static", 8000, "50M", "50M", validity_days=30))
        uow.commit()
    customer_id = make_customer(
        "0700111222",
        full_name="Juma Office",
        connection_type="static",
        plan="Office 50M",
        send_welcome=True,
    )
    [welcome] = messages_to(services, "+254700111222", "welcome:")
    with services.unit_of_work() as uow:
        customer = uow.session.get(Customer, customer_id)
        assert customer is not None and customer.ip_address
        assert f"your address is {customer.ip_address}" in welcome.body
        assert "password" not in welcome.body


def test_no_welcome_when_told_not_to(
    services: CoreServices, subscribers, make_customer: Callable[..., int]
):
    make_customer("0700333444", full_name="Old Customer", send_welcome=False)
    assert messages_to(services, "+254700333444", "welcome:") == []


def test_the_welcome_is_in_the_phones_language(
    services: CoreServices, subscribers, make_customer: Callable[..., int]
):
    with services.unit_of_work() as uow:
        set_language(uow, "+254700555666", "sw")
        uow.commit()
    make_customer("0700555666", full_name="Neema Wanjala", send_welcome=True)
    [welcome] = messages_to(services, "+254700555666", "welcome:")
    assert welcome.body.startswith("Karibu Kasarani Net!")


def _pay(services: CoreServices, customer_id: int, amount: int, receipt: str) -> None:
    with services.unit_of_work() as uow:
        record_payment(
            uow,
            customer_id,
            Actor.cli(),
            IncomingPayment(amount_kes=amount, method="mpesa", reference=receipt),
            activate=False,
        )
        uow.commit()


def test_a_renewal_paid_from_credit_is_announced_once(
    services: CoreServices, subscribers, clock: FrozenClock
):
    # Wanjiku paid 2,000 for a 1,500 plan: 500 credit. 1,000 more covers the next period.
    _pay(services, subscribers.wanjiku, 1000, "TKA1B2C3D4")
    with services.unit_of_work() as uow:
        customer = uow.session.get(Customer, subscribers.wanjiku)
        assert customer is not None and customer.expires_at is not None
        clock.set(customer.expires_at + timedelta(seconds=1))
    with services.unit_of_work() as uow:
        expire_if_due(uow, subscribers.wanjiku)
        uow.commit()
    with services.unit_of_work() as uow:
        expire_if_due(uow, subscribers.wanjiku)  # not due any more: nothing more is said
        uow.commit()
    [notice] = messages_to(services, WANJIKU, "renewed:")
    assert notice.body.startswith("Kasarani Net: Home 10M renewed from your credit until ")
    assert "Balance KES 0." in notice.body


def test_the_batch_expiry_announces_renewals_from_credit_too(
    services: CoreServices, subscribers, clock: FrozenClock
):
    _pay(services, subscribers.wanjiku, 1000, "TKA1B2C3D5")
    with services.unit_of_work() as uow:
        customer = uow.session.get(Customer, subscribers.wanjiku)
        assert customer is not None and customer.expires_at is not None
        clock.set(customer.expires_at + timedelta(seconds=1))
    with services.unit_of_work() as uow:
        expire_due_batch(uow)
        uow.commit()
    assert len(messages_to(services, WANJIKU, "renewed:")) == 1


def test_a_plain_expiry_sends_no_renewal_notice(
    services: CoreServices, subscribers, clock: FrozenClock
):
    with services.unit_of_work() as uow:
        customer = uow.session.get(Customer, subscribers.wanjiku)
        assert customer is not None and customer.expires_at is not None
        clock.set(customer.expires_at + timedelta(seconds=1))
        expire_if_due(uow, subscribers.wanjiku)
        uow.commit()
    assert messages_to(services, WANJIKU, "renewed:") == []


def test_a_suspended_subscriber_is_told_whom_to_call_not_the_staff_reason(
    services: CoreServices, subscribers, staff: Actor
):
    with services.unit_of_work() as uow:
        set_reminders(uow, WANJIKU, False)  # STOP silences reminders, not this
        suspend(uow, subscribers.wanjiku, staff, "cable theft under investigation")
        uow.commit()
    [notice] = messages_to(services, WANJIKU, "suspended:")
    assert "is suspended. Please call 0700 000001." in notice.body
    assert "theft" not in notice.body
