"""Finding customers the way staff and subscribers refer to them, fast enough for a person
waiting in a chat with 100,000 customers.

- Each identifier is its own indexed query: the account number, the phone, the IP address, and
  the login (stored lower-case, so plain equality uses its unique index).
- The part-of-the-name search is skipped when the text is an identifier no name contains (an
  account number, a phone number, an IP address). Otherwise it compares ``lower(full_name)`` and
  the login with ``LIKE '%text%'``: on PostgreSQL exactly the expressions of the trigram index of
  migration 0006, so the index answers it; SQLite's LIKE already ignores ASCII case, so there the
  name is compared as stored (one ``lower()`` per row saved on a search that reads every row).
"""

from __future__ import annotations

import contextlib

from sqlalchemy import ColumnElement, Select, func, or_, select
from sqlalchemy.orm import joinedload

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


def _live() -> Select[Customer]:
    # Cards and lists show the plan and the router: loaded with the customer, not one query each.
    return (
        select(Customer)
        .options(joinedload(Customer.plan), joinedload(Customer.router))
        .where(Customer.deleted_at.is_(None))
    )


def by_account_number(uow: UnitOfWork, text: str) -> Customer | None:
    """The customer whose account number ``text`` means (forgiving match), or None.

    Raises InvalidAccountNumber when the text looks like an account number with a wrong check
    character, so a typo is reported instead of matching nobody silently.
    """
    canonical = account_numbers.parse(text, uow.config.account_prefix)
    return uow.session.scalars(_live().where(Customer.account_number == canonical)).first()


def by_second_account_number(uow: UnitOfWork, text: str) -> Customer | None:
    """The customer whose additional account number ``text`` is (any case), or None."""
    key = account_numbers.reference_key(text, uow.config.account_prefix)
    if not key:
        return None
    return uow.session.scalars(_live().where(Customer.account_number2 == key)).first()


def paybill_customer_id(uow: UnitOfWork, text: str) -> int | None:
    """The id of the customer a paybill reference names: the account number (forgiving match)
    or the additional account number; None for nobody, a typo included.

    Only the id: a crediting path locks the customer by it before it reads what decides the
    credit, so nothing else of the row is worth loading here."""
    if not text.strip():
        return None
    with contextlib.suppress(InvalidAccountNumber):
        canonical = account_numbers.parse(text, uow.config.account_prefix)
        found = uow.session.scalar(_live_id().where(Customer.account_number == canonical))
        if found is not None:
            return found
    key = account_numbers.reference_key(text, uow.config.account_prefix)
    if not key:
        return None
    return uow.session.scalar(_live_id().where(Customer.account_number2 == key))


def _live_id() -> Select[int]:
    return select(Customer.id).where(Customer.deleted_at.is_(None)).limit(1)


def resolve(uow: UnitOfWork, reference: str) -> Customer:
    """The one customer ``reference`` names: account number (or the additional one), username,
    phone or IP address.

    Raises CustomerNotFound when nothing or more than one customer matches.
    """
    text = reference.strip()
    if not text:
        raise CustomerNotFound("give an account number, phone, username or IP address")
    account_error: InvalidAccountNumber | None = None
    try:
        customer = by_account_number(uow, text)
    except InvalidAccountNumber as exc:
        customer, account_error = None, exc
    if customer is None:
        customer = by_second_account_number(uow, text)
    if customer is not None:
        return customer
    matches = exact_matches(uow, text)
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


def exact_matches(uow: UnitOfWork, text: str, limit: int = SEARCH_LIMIT) -> list[Customer]:
    """Live customers whose login, phone or IP address is exactly ``text``, oldest first."""
    conditions: list[ColumnElement[bool]] = [Customer.username == text.lower()]
    phone = try_normalize_phone(text, uow.config.default_region)
    if phone is not None:
        conditions.append(Customer.phone == phone)
    with contextlib.suppress(InvalidInput):
        conditions.append(Customer.ip_address == parse_address(text))
    found: dict[int, Customer] = {}
    for condition in conditions:
        query = _live().where(condition).order_by(Customer.id).limit(limit)
        for customer in uow.session.scalars(query):
            found.setdefault(customer.id, customer)
    return [found[key] for key in sorted(found)][:limit]


def _names_cannot_match(uow: UnitOfWork, text: str) -> bool:
    """Whether ``text`` is an identifier no name contains: an account number written with its
    prefix, a phone number or an IP address. (Seven letters without the prefix may be a name
    that happens to pass the check character: those are searched.)"""
    prefix = uow.config.account_prefix
    compact = text.replace("-", "").replace(" ", "").upper()
    if compact.startswith(prefix) and account_numbers.looks_like_account_number(text, prefix):
        return True
    if try_normalize_phone(text, uow.config.default_region) is not None:
        return True
    try:
        parse_address(text)
    except InvalidInput:
        return False
    return True


def _name_contains(uow: UnitOfWork, text: str) -> ColumnElement[bool]:
    """Name or login contains ``text`` (any case; ``%``, ``_`` and ``\\`` taken literally)."""
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    pattern = f"%{escaped}%"
    # On PostgreSQL exactly the expressions of the trigram index (migration 0006): any other
    # reads every row. SQLite's LIKE ignores ASCII case already (its lower() knows no other
    # letters either), so there the name is compared as stored, saving a lower() per row.
    name: ColumnElement[str] = func.lower(Customer.full_name)
    if uow.session.get_bind().dialect.name != "postgresql":
        name = Customer.full_name.expression
    return or_(
        name.like(pattern, escape="\\"),
        Customer.username.like(pattern, escape="\\"),
    )


def search_condition(uow: UnitOfWork, text: str) -> ColumnElement[bool] | None:
    """The WHERE condition of a list's search box: the customers ``text`` names by account
    number (forgiving match) or the additional one, login, phone or IP address, or whose name
    or login contains it; None for a blank text. The same matches as ``find``, unranked."""
    text = text.strip()
    if not text:
        return None
    conditions: list[ColumnElement[bool]] = [Customer.username == text.lower()]
    with contextlib.suppress(InvalidAccountNumber):
        conditions.append(
            Customer.account_number == account_numbers.parse(text, uow.config.account_prefix)
        )
    key = account_numbers.reference_key(text, uow.config.account_prefix)
    if key:
        conditions.append(Customer.account_number2 == key)
    phone = try_normalize_phone(text, uow.config.default_region)
    if phone is not None:
        conditions.append(Customer.phone == phone)
    with contextlib.suppress(InvalidInput):
        conditions.append(Customer.ip_address == parse_address(text))
    if not _names_cannot_match(uow, text):
        conditions.append(_name_contains(uow, text))
    return or_(*conditions)


def find(uow: UnitOfWork, text: str, limit: int = SEARCH_LIMIT) -> list[Customer]:
    """Customers matching ``text`` by account number, phone, username, IP or part of the name:
    exact matches first, then names (and logins) containing the text, by name."""
    text = text.strip()
    if not text:
        return []
    found: dict[int, Customer] = {}
    with contextlib.suppress(InvalidAccountNumber):
        customer = by_account_number(uow, text)
        if customer is not None:
            found[customer.id] = customer
    by_number = bool(found)
    for match in exact_matches(uow, text, limit):
        found.setdefault(match.id, match)
    if len(found) >= limit or by_number or _names_cannot_match(uow, text):
        return list(found.values())[:limit]
    query = (
        _live()
        .where(_name_contains(uow, text))
        .order_by(Customer.full_name, Customer.id)
        .limit(limit)
    )
    for match in uow.session.scalars(query):
        if len(found) >= limit:
            break
        found.setdefault(match.id, match)
    return list(found.values())
