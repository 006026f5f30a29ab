"""Staff writing to a customer: a free SMS, or the paybill and account number to pay with."""

from __future__ import annotations

from core import audit, messages
from core.actors import Actor, Permission, require
from core.contacts import contact_values
from core.errors import InvalidInput
from core.lookup import get_customer
from core.models import Customer, SmsMessage
from core.unit_of_work import UnitOfWork
from core.usecases.preferences import language_of
from core.usecases.renewal import amount_to_renew, renewal_plan
from core.usecases.sms import queue_sms

# Three SMS parts: longer texts cost more than they help.
MAX_STAFF_SMS = 459


def send_customer_sms(uow: UnitOfWork, customer_id: int, actor: Actor, text: str) -> SmsMessage:
    """Queue ``text`` to the customer's phone; audited with the staff member's name."""
    require(actor, Permission.SEND_SMS)
    body = text.strip()
    if not body:
        raise InvalidInput("write the message to send")
    if len(body) > MAX_STAFF_SMS:
        raise InvalidInput(f"an SMS from staff is at most {MAX_STAFF_SMS} characters")
    customer = get_customer(uow, customer_id, for_update=False)
    message = queue_sms(uow, _phone(customer), body, "staff", customer.id)
    audit.record(
        uow,
        actor,
        "customer.sms",
        customer=customer,
        after={"sms_id": message.id, "length": len(body)},
    )
    return message


def payment_details_body(uow: UnitOfWork, customer: Customer, language: str | None = None) -> str:
    """How to pay for ``customer`` by paybill, in ``language`` (default: the phone's choice);
    without a paybill, what renews and whom to call."""
    config = uow.config
    if language is None:
        language = language_of(uow, customer.phone) if customer.phone else "en"
    plan = renewal_plan(customer)
    return messages.render(
        "payment_details" if config.paybill_number else "payment_details_no_paybill",
        language,
        isp=config.isp_name,
        **contact_values(config),
        account=customer.account_number,
        amount=f"{amount_to_renew(uow, customer) or plan.price_kes:,}",
        plan=plan.name,
    )


def send_payment_details(uow: UnitOfWork, customer_id: int, actor: Actor) -> SmsMessage:
    """Queue the paybill number, account number and amount due to the customer's phone."""
    require(actor, Permission.SEND_SMS)
    customer = get_customer(uow, customer_id, for_update=False)
    phone = _phone(customer)
    message = queue_sms(uow, phone, payment_details_body(uow, customer), "details", customer.id)
    audit.record(uow, actor, "customer.payment_details", customer=customer)
    return message


def _phone(customer: Customer) -> str:
    if not customer.phone:
        raise InvalidInput("the customer has no phone number")
    return customer.phone
