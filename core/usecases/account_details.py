"""What staff do around an account besides service and money: dated notes, resending the login
by SMS, and showing the login password to an admin."""

from __future__ import annotations

from core import audit, messages
from core.actors import Actor, Permission, require
from core.errors import InvalidInput
from core.lookup import get_customer
from core.models import AuditEvent, Customer, SmsMessage
from core.unit_of_work import UnitOfWork
from core.usecases.notices import notice_values
from core.usecases.preferences import language_of
from core.usecases.sms import SECRET_MASK, queue_sms
from core.vocabulary import ConnectionType

MAX_NOTE = 1000


def add_note(uow: UnitOfWork, customer_id: int, actor: Actor, text: str) -> AuditEvent:
    """Keep a dated note by ``actor`` on the customer; it shows in the card's history."""
    require(actor, Permission.WRITE_NOTES)
    note = text.strip()
    if not note:
        raise InvalidInput("write the note")
    if len(note) > MAX_NOTE:
        raise InvalidInput(f"a note is at most {MAX_NOTE} characters")
    customer = get_customer(uow, customer_id, for_update=False)
    return audit.record(uow, actor, "customer.note", customer=customer, after={"note": note})


def send_login(uow: UnitOfWork, customer_id: int, actor: Actor) -> SmsMessage:
    """Queue the PPPoE/hotspot login to the customer's phone. The password stays masked and
    encrypted in the outbox until it is sent; the audit entry never holds it."""
    require(actor, Permission.SEND_SMS)
    customer = get_customer(uow, customer_id, for_update=False)
    password = _password_of(uow, customer)
    if not customer.phone:
        raise InvalidInput("the customer has no phone number")
    body = messages.render(
        "login_details",
        language_of(uow, customer.phone),
        **notice_values(uow, customer) | {"password": SECRET_MASK},
    )
    message = queue_sms(
        uow, customer.phone, body, f"login:{customer.id}", customer.id, secret=password
    )
    audit.record(uow, actor, "customer.login_sent", customer=customer, after={"sms_id": message.id})
    return message


def show_password(uow: UnitOfWork, customer_id: int, actor: Actor) -> str:
    """The login password in plain text, for an admin or owner to read out; audited (without
    the password)."""
    require(actor, Permission.MANAGE_CUSTOMERS)
    customer = get_customer(uow, customer_id, for_update=False)
    password = _password_of(uow, customer)
    audit.record(uow, actor, "customer.password_shown", customer=customer)
    return password


def _password_of(uow: UnitOfWork, customer: Customer) -> str:
    if customer.connection_type == ConnectionType.STATIC:
        raise InvalidInput("a static-IP customer has no login; their address is their account")
    if customer.password_encrypted is None:
        raise InvalidInput("the customer has no password; set one with a password change")
    return uow.cipher.decrypt(customer.password_encrypted)
