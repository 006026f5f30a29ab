"""Sequential document numbers with no gaps: INV-000001, INV-000002, …; RCT-000001, …

A number is taken from a counter row in the same transaction that stores the document. The row
stays locked until that transaction ends (``SELECT … FOR UPDATE`` on PostgreSQL; on SQLite every
writing transaction already holds the database's write lock from ``BEGIN IMMEDIATE``), so two
transactions never get the same number, and a rolled-back one gives its number back.

That lock makes every payment in the system wait for the one before it to commit. So documents
are numbered as their transaction commits (``number_on_commit``): payments run side by side
through their renewals, invoices, ledger and audit rows, and queue only for the commit. Numbers
then follow commit order, which is the order the documents became real.

On PostgreSQL the database does it (migration 0023: a deferred constraint trigger per table,
run inside COMMIT), so the counters are held only while the commit runs. Numbering in a
``before_commit`` hook here held them across four more round trips, and under load a thread
holding them waited milliseconds for the GIL before each: every payment queued behind it, and
paybill confirmations backed up at 30 a second. SQLite, one writer at a time anyway, still
numbers in the hook (``_number_documents``).

Every counter row is locked together, in name order, the first time a transaction needs any
number. A transaction that takes an invoice number and then a receipt number (a new customer
with an installation fee and a first payment) and one that takes them the other way round (a
payment that renews) would otherwise each hold the row the other waits for.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from sqlalchemy import event, inspect, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from core.errors import InvalidInput
from core.models import DocumentCounter
from core.unit_of_work import UnitOfWork


class Sequence(StrEnum):
    INVOICE = "invoice"
    RECEIPT = "receipt"


PREFIXES = {Sequence.INVOICE: "INV", Sequence.RECEIPT: "RCT"}
DIGITS = 6


# session.info keys: the (sequence, document) pairs waiting for a number at commit, and the
# documents the database numbered as it committed (their ``number`` is re-read on next use).
_UNNUMBERED = "mteja_unnumbered_documents"
_NUMBERED_BY_DATABASE = "mteja_documents_numbered_by_database"


def next_number(uow: UnitOfWork, sequence: Sequence) -> int:
    """The next number of ``sequence`` now, reserved until this transaction ends (the counters
    stay locked until then: documents use ``number_on_commit``)."""
    counters = _locked_counters(uow.session)
    counter = counters[sequence.value]
    counter.last_number += 1
    uow.session.flush()
    return counter.last_number


def number_on_commit(uow: UnitOfWork, sequence: Sequence, document: Any) -> None:
    """Give ``document`` (an Invoice or Receipt) the next number of ``sequence`` as this
    transaction commits; until then its ``number`` is None."""
    uow.session.info.setdefault(_UNNUMBERED, []).append((sequence, document))


# Databases seen with migration 0023's triggers (by URL): once there, they stay.
_TRIGGERS_SEEN: set[str] = set()
_TRIGGER_PRESENT = text(
    "SELECT EXISTS (SELECT 1 FROM pg_trigger WHERE tgname = 'receipts_numbered_at_commit')"
)


def numbered_by_database(session: Session) -> bool:
    """Whether the database numbers documents itself as the transaction commits: PostgreSQL
    with migration 0023's triggers. A process started on an older schema (before ``mteja
    init`` ran) numbers them here until it sees the triggers; the trigger leaves a document
    already numbered alone, so the two never both number one."""
    bind = session.get_bind()
    if bind.dialect.name != "postgresql":
        return False
    url = str(bind.engine.url)
    if url not in _TRIGGERS_SEEN and session.scalar(_TRIGGER_PRESENT):
        _TRIGGERS_SEEN.add(url)
    return url in _TRIGGERS_SEEN


@event.listens_for(Session, "before_commit")
def _number_documents(session: Session) -> None:
    unnumbered = [
        (sequence, document)
        for sequence, document in session.info.pop(_UNNUMBERED, ())
        if _still_to_be_stored(session, document)
    ]
    if not unnumbered:
        return
    if numbered_by_database(session):
        session.info[_NUMBERED_BY_DATABASE] = [document for _, document in unnumbered]
        return
    counters = _locked_counters(session)
    for sequence, document in unnumbered:
        counter = counters[sequence.value]
        counter.last_number += 1
        document.number = counter.last_number
    session.flush()


@event.listens_for(Session, "after_commit")
def _reread_numbers(session: Session) -> None:
    # The database wrote the numbers behind the session's back: read them when next asked for.
    for document in session.info.pop(_NUMBERED_BY_DATABASE, ()):
        if document in session:
            session.expire(document, ["number"])


@event.listens_for(Session, "after_rollback")
def _forget_unnumbered(session: Session) -> None:
    # The documents that went with the rollback are forgotten (a retry makes and registers its
    # own); a savepoint's rollback leaves those made before it, which still need their number.
    waiting = session.info.get(_UNNUMBERED)
    if waiting:
        session.info[_UNNUMBERED] = [
            (sequence, document)
            for sequence, document in waiting
            if _still_to_be_stored(session, document)
        ]
    session.info.pop(_NUMBERED_BY_DATABASE, None)


def _still_to_be_stored(session: Session, document: Any) -> bool:
    """In this transaction and not deleted in it: a document rolled back with a savepoint, or
    deleted before the commit, takes no number (no gap)."""
    state = inspect(document)
    return document in session and not state.deleted and not state.was_deleted


def _locked_counters(session: Session) -> dict[str, DocumentCounter]:
    query = (
        select(DocumentCounter)
        .where(DocumentCounter.name.in_([member.value for member in Sequence]))
        .order_by(DocumentCounter.name)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    counters = {counter.name: counter for counter in session.scalars(query)}
    if len(counters) < len(Sequence):
        _create_missing_counters(session)
        counters = {counter.name: counter for counter in session.scalars(query)}
    return counters


def _create_missing_counters(session: Session) -> None:
    """Make the counter rows on first use. Two first uses at once both insert; ON CONFLICT DO
    NOTHING makes the second wait for the first and then insert nothing, instead of failing."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    for sequence in sorted(Sequence, key=lambda member: member.value):
        session.execute(
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
