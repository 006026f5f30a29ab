"""Migrations: from an empty database to head on SQLite and PostgreSQL, matching the models."""

from __future__ import annotations

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

from core.db import alembic_config, current_revision, make_engine, upgrade_to_head
from core.models import Base

# The trigram index (migration 0006) is PostgreSQL's alone; there it is compared like any other.
# Alembic cannot compare an expression index (that one, and lower(full_name) of 0016) on SQLite
# and says so: expected, not a problem.
pytestmark = [
    pytest.mark.filterwarnings(
        "ignore:autogenerate skipping metadata-specified expression-based index "
        f"'{index}'; dialect 'sqlite':UserWarning"
    )
    for index in ("ix_customers_name_trgm", "ix_customers_lower_full_name_id")
]


def _head() -> str:
    head = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
    assert head is not None
    return head


def test_empty_database_has_no_revision(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        assert current_revision(engine) is None
        assert inspect(engine).get_table_names() == []
    finally:
        engine.dispose()


def test_upgrade_from_empty_reaches_head_with_every_table(database_url: str) -> None:
    upgrade_to_head(database_url)
    engine = make_engine(database_url)
    try:
        assert current_revision(engine) == _head()
        tables = set(inspect(engine).get_table_names())
        assert set(Base.metadata.tables) <= tables
        assert tables - set(Base.metadata.tables) == {"alembic_version"}
    finally:
        engine.dispose()


def test_migrated_schema_and_models_agree(migrated_engine) -> None:
    with migrated_engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)
    assert differences == []


def test_upgrading_again_changes_nothing(database_url: str, migrated_engine) -> None:
    upgrade_to_head(database_url)
    assert current_revision(migrated_engine) == _head()
    with migrated_engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []


def test_downgrade_to_base_and_back(database_url: str, migrated_engine) -> None:
    command.downgrade(alembic_config(database_url), "base")
    assert current_revision(migrated_engine) is None
    assert set(inspect(migrated_engine).get_table_names()) <= {"alembic_version"}
    upgrade_to_head(database_url)
    assert current_revision(migrated_engine) == _head()


def test_0010_drops_clear_passwords_and_a_deleted_customers_messages(
    database_url: str, migrated_engine, new_customer
) -> None:
    """Rows written before 0010: a sent welcome with the password in clear, a queued one, and
    the messages of a customer deleted back then. After the upgrade no clear password is left."""
    sent_to = new_customer(phone="0711000001", send_welcome=True)
    queued_for = new_customer(phone="0711000002", send_welcome=True)
    gone = new_customer(phone="0711000003", send_welcome=False)
    command.downgrade(alembic_config(database_url), "0009")
    with migrated_engine.begin() as connection:
        connection.execute(
            text(
                "UPDATE sms_messages SET body = 'login jane password Pa55word', status = :status "
                "WHERE customer_id = :customer"
            ),
            [{"status": "sent", "customer": sent_to}, {"status": "queued", "customer": queued_for}],
        )
        connection.execute(
            text(
                "INSERT INTO sms_messages (customer_id, phone, kind, body, status, created_at) "
                "VALUES (:customer, '+254711000003', 'self:status', 'Home 10M, active', 'sent', "
                "CURRENT_TIMESTAMP)"
            ),
            {"customer": gone},
        )
        connection.execute(
            text("UPDATE customers SET deleted_at = CURRENT_TIMESTAMP WHERE id = :customer"),
            {"customer": gone},
        )

    upgrade_to_head(database_url)

    with migrated_engine.connect() as connection:
        rows = connection.execute(
            text("SELECT customer_id, body, phone FROM sms_messages ORDER BY customer_id")
        ).all()
    assert [(row.customer_id, row.body, row.phone) for row in rows] == [
        (sent_to, "[welcome SMS with the login; its text is not kept]", "+254711000001"),
        (queued_for, "login jane password Pa55word", "+254711000002"),
        (gone, "[erased]", ""),
    ]
