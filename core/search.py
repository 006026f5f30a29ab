"""Finding customers fast enough for a person waiting in a chat, with 100,000 of them.

The same answers as ``core.lookup.resolve`` and ``core.lookup.find``, reached through indexes:

- each identifier is its own indexed query (account number, phone, IP address, and the login,
  which is stored lower-case so plain equality uses its unique index) instead of one OR that
  applies ``lower()`` to every row;
- the part-of-the-name search, which must read every row, compares without ``lower()`` (SQLite's
  LIKE already ignores ASCII case; PostgreSQL uses ILIKE), and is skipped when the text is an
  account number, a phone number or an IP address, which no name contains.

Proposed to replace the bodies of ``core.lookup.resolve``/``find`` (kept apart here so the
staff bot could be built without editing core's lookup module).
"""

from __future__ import annotations

import contextlib

from sqlalchemy import ColumnElement, Select, or_, select
from sqlalchemy.orm import joinedload

from core import account_numbers
from core.addresses import parse_address
from core.errors import CustomerNotFound, InvalidAccountNumber, InvalidInput
from core.lookup import SEARCH_LIMIT
from core.models import Customer
from core.phones import try_normalize_phone
from core.unit_of_work import UnitOfWork


def _live() -> Select[Customer]:
    # The card shows the plan and the router: loaded with the customer, not one query each.
    return (
        select(Customer)
        .options(joinedload(Customer.plan), joinedload(Customer.router))
        .where(Customer.deleted_at.is_(None))
    )


def by_account_number(uow: UnitOfWork, text: str) -> Customer | None:
    """As ``core.lookup.by_account_number`` (InvalidAccountNumber for a typo), plan and router
    loaded."""
    canonical = account_numbers.parse(text, uow.config.account_prefix)
    return uow.session.scalars(_live().where(Customer.account_number == canonical)).first()


def resolve_customer(uow: UnitOfWork, reference: str) -> Customer:
    """The one customer ``reference`` names (account number, login, phone or IP address);
    CustomerNotFound, with the same messages as ``core.lookup.resolve``, otherwise."""
    text = reference.strip()
    if not text:
        raise CustomerNotFound("give an account number, phone, username or IP address")
    account_error: InvalidAccountNumber | None = None
    try:
        customer = by_account_number(uow, text)
    except InvalidAccountNumber as exc:
        customer, account_error = None, exc
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


def find_customers(uow: UnitOfWork, text: str, limit: int = SEARCH_LIMIT) -> list[Customer]:
    """Customers matching ``text`` by account number, phone, login, IP or part of the name:
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
    pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    if uow.session.get_bind().dialect.name == "postgresql":
        name_matches = Customer.full_name.ilike(pattern, escape="\\")
    else:
        name_matches = Customer.full_name.like(pattern, escape="\\")
    query = (
        select(Customer)
        .where(
            or_(name_matches, Customer.username.like(pattern.lower(), escape="\\")),
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
