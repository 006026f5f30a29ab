"""Finding customers the way staff and subscribers refer to them."""

from __future__ import annotations

import contextlib

from sqlalchemy import func, or_, select

from core import account_numbers
from core.addresses import parse_address
from core.errors import CustomerNotFound, InvalidAccountNumber, InvalidInput
from core.models import Customer
from core.phones import try_normalize_phone
from core.unit_of_work import UnitOfWork

SEARCH_LIMIT = 20


def get_customer(uow: UnitOfWork, customer_id: int, *, for_update: bool = True) -> Customer:
    """The live customer with ``customer_id``, row-locked for the transaction by default.

    The lock (FOR UPDATE on PostgreSQL; SQLite's write lock is taken at BEGIN) serializes two
    changes to one customer, such as a payment callback and a staff suspension.
    """
    query = select(Customer).where(Customer.id == customer_id, Customer.deleted_at.is_(None))
    if for_update:
        # populate_existing: a row read earlier in this transaction (e.g. by a lookup) is
        # refreshed once the lock is ours, so we never build on what another writer replaced.
        query = query.with_for_update().execution_options(populate_existing=True)
    customer = uow.session.scalars(query).first()
    if customer is None:
        raise CustomerNotFound(f"no customer with id {customer_id}")
    return customer


def by_account_number(uow: UnitOfWork, text: str) -> Customer | None:
    """The customer whose account number ``text`` means (forgiving match), or None.

    Raises InvalidAccountNumber when the text looks like an account number with a wrong check
    character, so a typo is reported instead of matching nobody silently.
    """
    canonical = account_numbers.parse(text, uow.config.account_prefix)
    return uow.session.scalars(
        select(Customer).where(Customer.account_number == canonical, Customer.deleted_at.is_(None))
    ).first()


def resolve(uow: UnitOfWork, reference: str) -> Customer:
    """The one customer ``reference`` names: account number, username, phone or IP address.

    Raises CustomerNotFound when nothing or more than one customer matches.
    """
    text = reference.strip()
    if not text:
        raise CustomerNotFound("give an account number, phone, username or IP address")
    try:
        customer = by_account_number(uow, text)
    except InvalidAccountNumber as exc:
        customer = None
        account_error: InvalidAccountNumber | None = exc
    else:
        account_error = None
        if customer is not None:
            return customer
    matches = _exact_matches(uow, text)
    if len(matches) == 1:
        return matches[0]
    if len(matches) > 1:
        numbers = ", ".join(match.account_number for match in matches[:5])
        raise CustomerNotFound(
            f"{text!r} matches {len(matches)} customers ({numbers}); use the account number"
        )
    if account_error is not None and account_numbers.is_account_shaped(
        text, uow.config.account_prefix
    ):
        raise CustomerNotFound(account_error.message)
    raise CustomerNotFound(f"no customer matches {text!r}")


def _exact_matches(uow: UnitOfWork, text: str) -> list[Customer]:
    conditions = [func.lower(Customer.username) == text.lower()]
    phone = try_normalize_phone(text, uow.config.default_region)
    if phone is not None:
        conditions.append(Customer.phone == phone)
    with contextlib.suppress(InvalidInput):
        conditions.append(Customer.ip_address == parse_address(text))
    query = (
        select(Customer)
        .where(or_(*conditions), Customer.deleted_at.is_(None))
        .order_by(Customer.id)
        .limit(SEARCH_LIMIT)
    )
    return list(uow.session.scalars(query))


def find(uow: UnitOfWork, text: str, limit: int = SEARCH_LIMIT) -> list[Customer]:
    """Customers matching ``text`` by account number, phone, username, IP, or part of the name."""
    text = text.strip()
    if not text:
        return []
    found: dict[int, Customer] = {}
    try:
        customer = by_account_number(uow, text)
    except InvalidAccountNumber:
        customer = None
    if customer is not None:
        found[customer.id] = customer
    for match in _exact_matches(uow, text):
        found.setdefault(match.id, match)
    if len(found) < limit:
        pattern = (
            "%" + text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        )
        query = (
            select(Customer)
            .where(
                or_(
                    func.lower(Customer.full_name).like(pattern, escape="\\"),
                    func.lower(Customer.username).like(pattern, escape="\\"),
                ),
                Customer.deleted_at.is_(None),
            )
            .order_by(Customer.full_name, Customer.id)
            .limit(limit)
        )
        for match in uow.session.scalars(query):
            if len(found) >= limit:
                break
            found.setdefault(match.id, match)
    return list(found.values())
