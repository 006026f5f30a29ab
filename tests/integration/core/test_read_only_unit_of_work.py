"""Read-only units of work (what a USSD screen uses) on a SQLite file and on PostgreSQL: they
read beside an open writer instead of queueing for the write lock, and they cannot write."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from core.models import AuditEvent, Customer
from core.unit_of_work import CoreServices, ReadOnlyViolation


def _audit_rows(services: CoreServices) -> int:
    with services.unit_of_work() as uow:
        return uow.session.scalar(select(func.count()).select_from(AuditEvent)) or 0


def test_a_read_only_unit_of_work_reads_while_a_writer_holds_the_database(
    db_services: CoreServices,
) -> None:
    with db_services.unit_of_work() as writer:
        # An open writing transaction: on SQLite it holds the database's write lock from BEGIN.
        writer.session.execute(text("UPDATE customers SET notes = notes WHERE id < 0"))
        started = time.monotonic()
        with db_services.unit_of_work(read_only=True) as reader:
            count = reader.session.scalar(select(func.count()).select_from(Customer))
        waited = time.monotonic() - started
    assert count == 0
    # A reader queued behind the writer would wait for SQLite's 30 s busy timeout, then fail.
    assert waited < 10


def test_a_read_only_unit_of_work_refuses_to_commit(db_services: CoreServices) -> None:
    before = _audit_rows(db_services)
    with db_services.unit_of_work(read_only=True) as uow, pytest.raises(ReadOnlyViolation):
        uow.commit()
    assert _audit_rows(db_services) == before


# SQLite has no read-only transactions: there the refused commit (above) is the guard.
@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_postgresql_refuses_a_write_in_a_read_only_transaction(db_services: CoreServices) -> None:
    with (
        db_services.unit_of_work(read_only=True) as uow,
        pytest.raises(DBAPIError, match="read-only transaction"),
    ):
        uow.session.execute(text("UPDATE customers SET notes = notes"))
