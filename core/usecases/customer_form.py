"""The Add Customer form checked one part at a time, as ``create_customer`` will check it.

A form that asks in several pages (the staff console) shows a mistake on the page it belongs to
instead of at the end. Nothing is written here: ``create_customer`` checks everything again when
the customer is made, in one transaction.
"""

from __future__ import annotations

from enum import StrEnum

from core import account_numbers, ledger
from core.actors import Actor, Permission, require
from core.errors import Conflict, InvalidInput
from core.phones import normalize_phone
from core.unit_of_work import UnitOfWork
from core.usecases.customers import (
    NewCustomer,
    _address_for,
    _reference_owner,
    _required_name,
    check_first_money,
    plan_on_sale_for,
)
from core.usecases.network import get_router_by_name
from core.vocabulary import ConnectionType, PaymentMethod, parse_choice


class FormPart(StrEnum):
    """The parts of the Add Customer form, in the order staff fill them in."""

    TYPE = "type"
    DETAILS = "details"
    SERVICE = "service"
    PAYMENT = "payment"


def check_new_customer(uow: UnitOfWork, actor: Actor, form: NewCustomer, part: FormPart) -> None:
    """Raise the error ``create_customer`` would raise for ``part`` of ``form`` (the parts before
    it are assumed checked already)."""
    require(actor, Permission.MANAGE_CUSTOMERS)
    connection_type = parse_choice(ConnectionType, form.connection_type, "connection type")
    if part is FormPart.DETAILS:
        _required_name(form.full_name)
        normalize_phone(form.phone, uow.config.default_region)
        if form.account_number2 is not None and form.account_number2.strip():
            key = account_numbers.clean_second_reference(
                form.account_number2, uow.config.account_prefix
            )
            if _reference_owner(uow, key) is not None:
                raise Conflict(f"{key} is already an account number of another customer")
    elif part is FormPart.SERVICE:
        if not form.plan.strip():
            raise InvalidInput("choose a plan")
        plan = plan_on_sale_for(uow, form.plan, connection_type)
        if not form.router.strip():
            raise InvalidInput("choose a router")
        router = get_router_by_name(uow, form.router)
        _address_for(uow, router, connection_type, form.ip_address, None, plan.id)
    elif part is FormPart.PAYMENT:
        check_first_money(form)
        if form.payment_method is not None:
            method = parse_choice(PaymentMethod, form.payment_method, "payment method")
            if form.amount_kes is not None:
                ledger.require_positive_amount(form.amount_kes)
            reference = (form.payment_reference or "").strip()
            if method is PaymentMethod.MPESA and not reference:
                raise InvalidInput("an M-Pesa payment needs its receipt number as the reference")
