"""Part-of-the-name search on real databases: the same answers on SQLite and PostgreSQL, and on
PostgreSQL the query ``find`` sends is one the trigram index of migration 0006 answers."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, event, text

from core.lookup import find

NAMES = ["Wanjiku Kamau", "John KAMAU", "Kamaundi Otieno", "Mary Wambui", "Peter Ochieng"]


@pytest.fixture
def named(new_customer) -> dict[str, int]:
    return {
        name: new_customer(full_name=name, phone=f"07220000{i:02d}") for i, name in enumerate(NAMES)
    }


@pytest.fixture
def statements(migrated_engine: Engine) -> Iterator[list[tuple[str, Any]]]:
    """Every SQL statement sent while the test runs, with its parameters."""
    sent: list[tuple[str, Any]] = []

    def record(conn: Any, cursor: Any, statement: str, parameters: Any, *args: Any) -> None:
        sent.append((statement, parameters))

    event.listen(migrated_engine, "before_cursor_execute", record)
    yield sent
    event.remove(migrated_engine, "before_cursor_execute", record)


def test_name_search_ignores_case_on_both_databases(isp_db, named) -> None:
    with isp_db.unit_of_work() as uow:
        found = [customer.full_name for customer in find(uow, "KaMaU")]
        by_login = [customer.full_name for customer in find(uow, "peter.och")]
    assert found == ["John KAMAU", "Kamaundi Otieno", "Wanjiku Kamau"]
    assert by_login == ["Peter Ochieng"]


# Trigram indexes are PostgreSQL's; SQLite's name search reads every row.
@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_the_trigram_index_answers_the_name_search(
    isp_db, named, migrated_engine, statements
) -> None:
    with isp_db.unit_of_work() as uow:
        assert len(find(uow, "kamau")) == 3
    searches = [(sql, params) for sql, params in statements if " LIKE " in sql]
    assert len(searches) == 1
    sql, params = searches[0]
    assert "lower(customers.full_name) LIKE" in sql
    with migrated_engine.connect() as connection:
        # A few rows are cheaper to read in full; forbid that to see whether the index fits at
        # all (an expression unlike the index's would leave a sequential scan as the only plan).
        connection.execute(text("SET enable_seqscan = off"))
        plan = "\n".join(row[0] for row in connection.exec_driver_sql("EXPLAIN " + sql, params))
    assert "ix_customers_name_trgm" in plan, plan
    assert "Seq Scan on customers" not in plan, plan
