"""Sequential document numbers with no gaps: INV-000001, INV-000002, …; RCT-000001, …

A number is taken from a counter row in the same transaction that stores the document. The row
stays locked until that transaction ends (``SELECT … FOR UPDATE`` on PostgreSQL; on SQLite every
writing transaction already holds the database's write lock from ``BEGIN IMMEDIATE``), so two
transactions never get the same number, and a rolled-back one gives its number back.

Every counter row is locked together, in name order, the first time a transaction needs any
number. A transaction that takes an invoice number and then a receipt number (a new customer
with an installation fee and a first payment) and one that takes them the other way round (a
payment that renews) would otherwise each hold the row the other waits for.
"""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from core.errors import InvalidInput
from core.models import DocumentCounter
from core.unit_of_work import UnitOfWork


class Sequence(StrEnum):
    INVOICE = "invoice"
    RECEIPT = "receipt"


PREFIXES = {Sequence.INVOICE: "INV", Sequence.RECEIPT: "RCT"}
DIGITS = 6


def next_number(uow: UnitOfWork, sequence: Sequence) -> int:
    """The next number of ``sequence``, reserved until this transaction ends."""
    counters = _locked_counters(uow)
    counter = counters[sequence.value]
    counter.last_number += 1
    uow.session.flush()
    return counter.last_number


def _locked_counters(uow: UnitOfWork) -> dict[str, DocumentCounter]:
    query = (
        select(DocumentCounter)
        .where(DocumentCounter.name.in_([member.value for member in Sequence]))
        .order_by(DocumentCounter.name)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    counters = {counter.name: counter for counter in uow.session.scalars(query)}
    if len(counters) < len(Sequence):
        _create_missing_counters(uow)
        counters = {counter.name: counter for counter in uow.session.scalars(query)}
    return counters


def _create_missing_counters(uow: UnitOfWork) -> None:
    """Make the counter rows on first use. Two first uses at once both insert; ON CONFLICT DO
    NOTHING makes the second wait for the first and then insert nothing, instead of failing."""
    dialect = uow.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    for sequence in sorted(Sequence, key=lambda member: member.value):
        uow.session.execute(
            insert(DocumentCounter)
            .values(name=sequence.value, last_number=0)
            .on_conflict_do_nothing(index_elements=["name"])
        )


def label(sequence: Sequence, number: int) -> str:
    """``INV-000123``: the number as printed on the document."""
    return f"{PREFIXES[sequence]}-{number:0{DIGITS}d}"


def parse_number(sequence: Sequence, text: str) -> int:
    """``INV-000123``, ``inv123``, ``000123`` or ``123`` → 123; anything else is InvalidInput."""
    prefix = PREFIXES[sequence]
    cleaned = text.strip().upper().replace(" ", "")
    if cleaned.startswith(prefix):
        cleaned = cleaned.removeprefix(prefix).removeprefix("-")
    if not cleaned.isdigit() or int(cleaned) == 0 or len(cleaned) > 12:
        example = label(sequence, 123)
        what = "an invoice" if sequence is Sequence.INVOICE else "a receipt"
        raise InvalidInput(f"{text.strip()!r} is not {what} number (like {example})")
    return int(cleaned)
