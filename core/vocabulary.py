"""The words of the business, as string enums stored in the database."""

from __future__ import annotations

from enum import StrEnum
from typing import TypeVar


class ConnectionType(StrEnum):
    PPPOE = "pppoe"
    HOTSPOT = "hotspot"
    STATIC = "static"


class Status(StrEnum):
    """A customer's status; transitions are in core.lifecycle and docs/architecture.md."""

    INACTIVE = "inactive"
    ACTIVE = "active"
    EXPIRED = "expired"
    SUSPENDED = "suspended"


class PaymentMethod(StrEnum):
    CASH = "cash"
    MPESA = "mpesa"
    BANK = "bank"
    CHEQUE = "cheque"


class LedgerKind(StrEnum):
    PAYMENT = "payment"
    PLAN_CHARGE = "plan_charge"
    INSTALLATION_FEE = "installation_fee"
    DEBT = "debt"
    ADJUSTMENT = "adjustment"
    # The unused value of paid time given back when a subscription is cancelled (credit).
    CANCEL_REFUND = "cancel_refund"


class InvoiceKind(StrEnum):
    """What an invoice bills: a renewal's periods, a debt, or an installation fee."""

    RENEWAL = "renewal"
    DEBT = "debt"
    INSTALLATION = "installation"


class InvoiceStatus(StrEnum):
    UNPAID = "unpaid"
    PARTIALLY_PAID = "partially_paid"
    PAID = "paid"


class Role(StrEnum):
    OWNER = "owner"
    ADMIN = "admin"
    AGENT = "agent"
    VIEWER = "viewer"


E = TypeVar("E", bound=StrEnum)


def parse_choice(enum: type[E], text: str, what: str) -> E:
    """``text`` as a member of ``enum``, or InvalidInput listing the choices."""
    from core.errors import InvalidInput

    try:
        return enum(text.strip().lower())
    except ValueError:
        choices = ", ".join(member.value for member in enum)
        raise InvalidInput(f"{what} must be one of {choices}, not {text!r}") from None
