"""The money ledger: integer KES rows per customer; a balance is their sum."""

from __future__ import annotations

from sqlalchemy import func, select

from core.actors import Actor
from core.errors import InvalidInput
from core.models import Customer, LedgerEntry
from core.unit_of_work import UnitOfWork
from core.vocabulary import LedgerKind


def balance_kes(uow: UnitOfWork, customer_id: int) -> int:
    """Credit (positive) or debt (negative) of the customer, in whole shillings."""
    total = uow.session.scalar(
        select(func.coalesce(func.sum(LedgerEntry.amount_kes), 0)).where(
            LedgerEntry.customer_id == customer_id
        )
    )
    return int(total or 0)


def balances_kes(uow: UnitOfWork, customer_ids: list[int]) -> dict[int, int]:
    """Balances of many customers in one query (customers with no entries are absent: 0)."""
    if not customer_ids:
        return {}
    rows = uow.session.execute(
        select(LedgerEntry.customer_id, func.sum(LedgerEntry.amount_kes))
        .where(LedgerEntry.customer_id.in_(customer_ids))
        .group_by(LedgerEntry.customer_id)
    )
    return {customer_id: int(total or 0) for customer_id, total in rows}


def post(
    uow: UnitOfWork,
    customer: Customer,
    kind: LedgerKind,
    amount_kes: int,
    description: str,
    actor: Actor,
    payment_id: int | None = None,
) -> LedgerEntry:
    """Add a ledger row: positive amounts credit the customer, negative ones charge them.

    Not flushed here: it is written with the transaction's next query (every balance is a
    query, so it counts) or at commit, beside the rest, in fewer round trips. Link to it
    through relationships (``Invoice.ledger_entry``), not by its id, which is None until then."""
    entry = LedgerEntry(
        customer_id=customer.id,
        kind=kind.value,
        amount_kes=amount_kes,
        payment_id=payment_id,
        description=description,
        actor=actor.label,
        created_at=uow.clock.now(),
    )
    uow.session.add(entry)
    return entry


# Above any sum an ISP takes in one go, and well inside the database's 32-bit integer columns:
# a typo of extra zeros is refused instead of crashing the write.
MAX_AMOUNT_KES = 100_000_000


def require_positive_amount(amount_kes: int, what: str = "amount") -> int:
    """``amount_kes`` if it is a whole positive number of shillings, at most MAX_AMOUNT_KES,
    else InvalidInput."""
    if isinstance(amount_kes, bool) or not isinstance(amount_kes, int):
        raise InvalidInput(f"{what} must be a whole number of shillings")
    if amount_kes <= 0:
        raise InvalidInput(f"{what} must be more than 0, not {amount_kes}")
    return _not_huge(amount_kes, what)


def _not_huge(amount_kes: int, what: str) -> int:
    if amount_kes > MAX_AMOUNT_KES:
        raise InvalidInput(f"{what} must be at most {MAX_AMOUNT_KES:,} shillings")
    return amount_kes


def require_not_negative(amount_kes: int, what: str) -> int:
    """``amount_kes`` if it is a whole number of shillings, 0 or more (a fee, a price), else
    InvalidInput."""
    if isinstance(amount_kes, bool) or not isinstance(amount_kes, int):
        raise InvalidInput(f"{what} must be a whole number of shillings")
    if amount_kes < 0:
        raise InvalidInput(f"{what} cannot be negative, not {amount_kes}")
    _not_huge(amount_kes, what)
    return amount_kes


def parse_amount(text: str, what: str = "amount") -> int:
    """Parse ``1,500``, ``1500`` or ``KES 1500`` into whole shillings, more than 0."""
    return require_positive_amount(_shillings(text, what), what)


def parse_fee(text: str, what: str = "the installation fee") -> int:
    """Like ``parse_amount``, but 0 (no fee) is allowed."""
    return require_not_negative(_shillings(text, what), what)


def _shillings(text: str, what: str) -> int:
    """A signed whole number of shillings in ``text``, so that ``-500`` is refused for its sign."""
    cleaned = text.strip().upper().removeprefix("KES").removeprefix("KSH").strip().replace(",", "")
    digits = cleaned.removeprefix("-")
    if not (digits.isascii() and digits.isdigit()):
        raise InvalidInput(f"{what} must be a whole number of shillings, not {text.strip()!r}")
    return int(cleaned)
