"""Review of 52480d0 (PostgreSQL numbers invoices and receipts inside COMMIT, migration 0023).

Attacks on the invariant "numbers 1..N per sequence, no gap, no duplicate, on both databases":
savepoints, documents deleted in their own transaction, backups restored, and code running on a
schema not yet at 0023."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import select

from core.actors import Actor
from core.db import alembic_config, make_engine, upgrade_to_head
from core.models import Receipt
from core.testing import seed_pppoe_customers, services_for
from core.unit_of_work import CoreServices
from core.usecases.billing import IncomingPayment, record_payment
from mteja.backup import backup, restore
from tests.conftest import scratch_postgres


def _numbers(services: CoreServices) -> list[int | None]:
    with services.unit_of_work() as uow:
        return list(uow.session.scalars(select(Receipt.number).order_by(Receipt.id)))


def _pay(services: CoreServices, staff: Actor, customer_id: int, reference: str) -> None:
    with services.unit_of_work() as uow:
        record_payment(uow, customer_id, staff, IncomingPayment(100, "cash", reference=reference))
        uow.commit()


def test_a_receipt_rolled_back_with_its_savepoint_takes_no_number(
    isp_db: CoreServices, staff: Actor, new_customer
) -> None:
    """PostgreSQL: the deferred trigger event goes with the savepoint. SQLite: the before_commit
    hook still numbers the (now transient) receipt and burns a number: a gap."""
    customer_id = new_customer()
    _pay(isp_db, staff, customer_id, "A1")
    with isp_db.unit_of_work() as uow:
        savepoint = uow.session.begin_nested()
        record_payment(uow, customer_id, staff, IncomingPayment(100, "cash", reference="B1"))
        savepoint.rollback()
        uow.commit()
    _pay(isp_db, staff, customer_id, "C1")

    assert _numbers(isp_db) == [1, 2]


def test_a_receipt_deleted_in_its_own_transaction_takes_no_number(
    isp_db: CoreServices, staff: Actor, new_customer
) -> None:
    customer_id = new_customer()
    _pay(isp_db, staff, customer_id, "A2")
    with isp_db.unit_of_work() as uow:
        record_payment(uow, customer_id, staff, IncomingPayment(100, "cash", reference="B2"))
        receipt = uow.session.scalars(select(Receipt).where(Receipt.number.is_(None))).one()
        uow.session.delete(receipt)
        uow.session.flush()
        uow.commit()
    _pay(isp_db, staff, customer_id, "C2")

    assert _numbers(isp_db) == [1, 2]


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_documents_made_before_migration_0023_ran_get_numbers_when_it_runs(
    database_url: str, staff: Actor
) -> None:
    """Code of 52480d0 or later on a schema still at 0022 (processes started before
    `mteja init`, which nothing prevents: docs/operations.md says the processes do not check the
    schema) numbers nothing on PostgreSQL: the Python hook skips it and no trigger exists yet.
    Those receipts stay NULL for ever, because 0023 neither numbers them nor can the trigger
    (AFTER INSERT) reach them later; core.usecases.invoices formats them with label(), which
    fails on None."""
    command.upgrade(alembic_config(database_url), "0022")
    engine = make_engine(database_url)
    services = services_for(engine)
    try:
        _, customer_ids = seed_pppoe_customers(services, staff, 1)
        _pay(services, staff, customer_ids[0], "EARLY1")
        upgrade_to_head(database_url)  # the operator runs `mteja init` afterwards
        _pay(services, staff, customer_ids[0], "LATE1")

        assert _numbers(services) == [1, 2]
    finally:
        engine.dispose()


@pytest.fixture
def restore_target() -> Iterator[str]:
    with scratch_postgres("mteja_review") as url:
        yield url


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_an_older_backup_restored_into_a_migrated_database_can_then_be_migrated(
    database_url: str, restore_target: str, staff: Actor, tmp_path: Path
) -> None:
    """docs/operations.md, Restoring: "An empty database that `mteja init` already migrated is
    fine", and for a backup older than the installed mteja "run `mteja init` to migrate it".
    pg_restore --clean drops only what the archive holds: a pre-0023 archive holds no
    mteja_number_document(), so the function `mteja init` made stays, and 0023's CREATE
    FUNCTION then fails (function already exists): the restored install cannot be migrated."""
    command.upgrade(alembic_config(database_url), "0022")
    dump = tmp_path / "old.backup"
    backup(database_url, dump)
    upgrade_to_head(restore_target)  # `mteja init` on the new, empty database

    restored = restore(restore_target, dump)
    assert restored.revision == "0022" and restored.behind

    upgrade_to_head(restore_target)  # `mteja init`, as restore told the operator to

    engine = make_engine(restore_target)
    services = services_for(engine)
    try:
        _, customer_ids = seed_pppoe_customers(services, staff, 1)
        _pay(services, staff, customer_ids[0], "AFTER1")
        assert _numbers(services) == [1]
    finally:
        engine.dispose()


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_current_backup_restores_with_working_numbering(
    db_services: CoreServices,
    database_url: str,
    restore_target: str,
    staff: Actor,
    tmp_path: Path,
) -> None:
    """Sound: the triggers are post-data in the archive, so a restore renumbers nothing, and the
    restored database numbers the next document after the last."""
    _, customer_ids = seed_pppoe_customers(db_services, staff, 1)
    _pay(db_services, staff, customer_ids[0], "R1")
    _pay(db_services, staff, customer_ids[0], "R2")
    dump = tmp_path / "now.backup"
    backup(database_url, dump)
    upgrade_to_head(restore_target)
    restore(restore_target, dump)

    engine = make_engine(restore_target)
    services = services_for(engine)
    try:
        assert _numbers(services) == [1, 2]
        _pay(services, staff, customer_ids[0], "R3")
        assert _numbers(services) == [1, 2, 3]
    finally:
        engine.dispose()


def test_a_savepoint_rolled_back_keeps_the_numbers_of_documents_made_before_it(
    isp_db: CoreServices, staff: Actor, new_customer
) -> None:
    """A receipt made before a savepoint, then a savepoint rolled back: the receipt made before
    it must still be numbered (and its number readable in the session after commit)."""
    customer_id = new_customer()
    with isp_db.unit_of_work() as uow:
        record_payment(uow, customer_id, staff, IncomingPayment(100, "cash", reference="S1"))
        kept = uow.session.scalars(select(Receipt)).one()
        savepoint = uow.session.begin_nested()
        record_payment(uow, customer_id, staff, IncomingPayment(100, "cash", reference="S2"))
        savepoint.rollback()
        uow.commit()
        seen_in_session = kept.number

    assert _numbers(isp_db) == [1]
    assert seen_in_session == 1


def test_a_document_s_number_is_readable_in_its_session_after_commit(
    isp_db: CoreServices, staff: Actor, new_customer
) -> None:
    """On PostgreSQL the number is written by the database as the transaction commits; the
    session reads it again when asked (on both databases the object shows its number)."""
    customer_id = new_customer()
    for expected, reference in ((1, "D1"), (2, "D2")):
        with isp_db.unit_of_work() as uow:
            record_payment(
                uow, customer_id, staff, IncomingPayment(100, "cash", reference=reference)
            )
            receipt = uow.session.scalars(select(Receipt).where(Receipt.number.is_(None))).one()
            uow.commit()
            assert receipt.number == expected
