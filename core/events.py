"""Facts a use case publishes; dispatched only after its transaction commits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class CustomerNeedsSync:
    """The router must be converged to this customer's desired state."""

    customer_id: int
    router_id: int | None = None


@dataclass(frozen=True)
class ExpiryScheduled:
    """The customer's paid time now ends at ``expires_at``: check them at that instant."""

    customer_id: int
    expires_at: datetime


@dataclass(frozen=True)
class PeriodStartScheduled:
    """A paid period of the customer starts at ``starts_at``: begin it at that instant."""

    customer_id: int
    starts_at: datetime


@dataclass(frozen=True)
class SessionDropRequested:
    """Drop the customer's live session(s) without changing what the router holds."""

    customer_id: int


@dataclass(frozen=True)
class CustomerRemoved:
    """The customer was deleted: remove their entries from ``router_id``."""

    customer_id: int
    router_id: int | None
    username: str
    connection_type: str
    account_number: str | None = None


@dataclass(frozen=True)
class PaymentReceived:
    """Money was recorded. ``expires_at`` and ``balance_kes`` are the customer's right after
    this payment: the receipt is sent later, when another payment may have moved both."""

    payment_id: int
    customer_id: int | None
    expires_at: datetime | None = None
    balance_kes: int | None = None
    # How it was paid ("mpesa", "cash", ...); a payment with no customer is unmatched.
    method: str = ""


@dataclass(frozen=True)
class ServiceExpired:
    """The customer's paid time ran out at ``expires_at`` and the expiry cut them off at
    ``expired_at`` (the difference is how late the expiry job ran)."""

    customer_id: int
    expires_at: datetime
    expired_at: datetime


@dataclass(frozen=True)
class StkPushRequested:
    """Ask Safaricom to prompt the phone of this STK request for the M-Pesa PIN."""

    stk_request_id: int


@dataclass(frozen=True)
class StkPushFailed:
    """An STK push ended without payment (cancelled, wrong PIN, no answer, refused)."""

    stk_request_id: int


@dataclass(frozen=True)
class CallbackFlagged:
    """A callback could not be handled (malformed, or matching nothing we sent); staff look."""

    callback_id: int
    reason: str


@dataclass(frozen=True)
class SmsQueued:
    message_id: int


@dataclass(frozen=True)
class TicketOpened:
    """A subscriber reported a problem: tell staff."""

    ticket_id: int


Event = (
    CustomerNeedsSync
    | ExpiryScheduled
    | PeriodStartScheduled
    | SessionDropRequested
    | CustomerRemoved
    | PaymentReceived
    | ServiceExpired
    | StkPushRequested
    | StkPushFailed
    | CallbackFlagged
    | SmsQueued
    | TicketOpened
)
