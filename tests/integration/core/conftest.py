"""Fixtures for core integration tests: a small ISP on a real, migrated database (SQLite file and
PostgreSQL), and customers created through the real use cases."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import func, select

from core import ledger
from core.actors import Actor
from core.models import Base, Customer
from core.unit_of_work import CoreServices
from core.usecases.billing import IncomingPayment, record_payment
from core.usecases.customers import NewCustomer, create_customer
from core.usecases.network import RouterSpec, add_pool, add_router
from core.usecases.plans import PlanSpec, add_plan

PLAN_PRICE_KES = 1500


@pytest.fixture
def isp_db(db_services: CoreServices, staff: Actor) -> CoreServices:
    """db_services with a router (pool 10.10.0.0/24) and a PPPoE plan of KES 1500 / 30 days."""
    with db_services.unit_of_work() as uow:
        add_router(
            uow, staff, RouterSpec("core-1", "127.0.0.1", 8728, "admin", "secret", plain_api=True)
        )
        add_pool(uow, staff, "core-1", "10.10.0.0/24")
        add_plan(
            uow,
            staff,
            PlanSpec("Home 10M", "pppoe", PLAN_PRICE_KES, "10M", "5M", validity_days=30),
        )
        uow.commit()
    return db_services


@pytest.fixture
def new_customer(isp_db: CoreServices, staff: Actor) -> Callable[..., int]:
    """Create a PPPoE customer; ``paid=N`` takes a first cash payment of N shillings."""

    def make(paid: int | None = None, **fields: Any) -> int:
        form: dict[str, Any] = {
            "full_name": "Wanjiku Kamau",
            "phone": "0712345678",
            "connection_type": "pppoe",
            "plan": "Home 10M",
            "router": "core-1",
        }
        form.update(fields)
        with isp_db.unit_of_work() as uow:
            customer = create_customer(uow, staff, NewCustomer(**form)).customer
            if paid is not None:
                record_payment(uow, customer.id, staff, IncomingPayment(paid, "cash"))
            uow.commit()
            return customer.id

    return make


@pytest.fixture
def state(isp_db: CoreServices) -> Callable[[int], dict[str, Any]]:
    """A customer's status, expiry and balance, read fresh."""

    def read(customer_id: int) -> dict[str, Any]:
        with isp_db.unit_of_work() as uow:
            customer = uow.session.get(Customer, customer_id)
            assert customer is not None
            return {
                "status": customer.status,
                "expires_at": customer.expires_at,
                "balance_kes": ledger.balance_kes(uow, customer_id),
                "sync_pending": customer.sync_pending,
            }

    return read


@pytest.fixture
def table_counts(isp_db: CoreServices) -> Callable[[], dict[str, int]]:
    """Rows per table, to prove that a failed use case wrote nothing."""

    def count() -> dict[str, int]:
        with isp_db.unit_of_work() as uow:
            return {
                table.name: int(uow.session.scalar(select(func.count()).select_from(table)) or 0)
                for table in Base.metadata.sorted_tables
            }

    return count
