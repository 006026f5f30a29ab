"""Domain errors. Raised in core, translated once per adapter (bot reply, USSD screen, HTTP status).

Every message is written for the staff member or subscriber who will read it.
"""

from __future__ import annotations


class DomainError(Exception):
    """A business rule refused the request; nothing was changed."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(DomainError):
    """The thing asked for does not exist."""


class CustomerNotFound(NotFound):
    pass


class PlanNotFound(NotFound):
    pass


class RouterNotFound(NotFound):
    pass


class PoolNotFound(NotFound):
    """No address pool is named so."""


class PaymentNotFound(NotFound):
    pass


class StaffNotFound(NotFound):
    pass


class TicketNotFound(NotFound):
    pass


class InvoiceNotFound(NotFound):
    pass


class ReceiptNotFound(NotFound):
    pass


class InvalidInput(DomainError):
    """A value is malformed (a phone number, an amount, a CIDR, a date)."""


class InvalidAccountNumber(InvalidInput):
    pass


class InvalidPhone(InvalidInput):
    pass


class PlanMismatch(DomainError):
    """The plan is for another connection type than the customer's."""


class Conflict(DomainError):
    """The request clashes with existing data (a taken username, a used address)."""


class AddressUnavailable(DomainError):
    """No address can be given (none required but missing, pool exhausted, outside any pool)."""


class TicketClosed(Conflict):
    """The ticket is closed: nothing more to close or assign; reopen it first."""


class InvalidTransition(DomainError):
    """The customer's status does not allow this action."""


class DeletionRefused(DomainError):
    """The customer still has money or paid time on the account."""


class SubAccountsRemain(DeletionRefused):
    """The customer has live sub-accounts: they go first, and no force deletes them with it."""


class PermissionDenied(DomainError):
    """The acting staff member's role does not allow this action."""


class DuplicatePayment(DomainError):
    """A payment with this method and reference was already recorded."""


class RateLimited(DomainError):
    """Asked too often in too short a time (e.g. STK pushes from self-service)."""
