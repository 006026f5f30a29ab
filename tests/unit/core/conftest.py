"""Fixtures for core unit tests: a small ISP (a router with a pool, plans of each type), customers
made through the real use case, and short ways to run a use case and read back what it stored."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import func, select

from core import ledger
from core.actors import Actor
from core.models import AuditEvent, Customer
from core.unit_of_work import CoreServices
from core.usecases.customers import NewCustomer, create_customer
from core.usecases.network import RouterSpec, add_pool, add_router
from core.usecases.plans import PlanSpec, add_plan
from core.vocabulary import Role


@dataclass(frozen=True)
class Isp:
    router: str = "core-1"
    pppoe_plan: str = "Home 10M"
    pppoe_plan_big: str = "Home 20M"
    hotspot_plan: str = "Daily 5M"
    static_plan: str = "Business 50M"


@pytest.fixture
def isp(services: CoreServices, staff: Actor) -> Isp:
    with services.unit_of_work() as uow:
        add_router(
            uow, staff, RouterSpec("core-1", "127.0.0.1", 8728, "admin", "secret", plain_api=True)
        )
        add_pool(uow, staff, "core-1", "10.10.0.0/29")
        add_plan(uow, staff, PlanSpec("Home 10M", "pppoe", 1500, "10M", "5M", validity_days=30))
        add_plan(uow, staff, PlanSpec("Home 20M", "pppoe", 2500, "20M", "10M", validity_days=30))
        add_plan(uow, staff, PlanSpec("Daily 5M", "hotspot", 50, "5M", "2M", validity_hours=24))
        add_plan(
            uow, staff, PlanSpec("Business 50M", "static", 6000, "50M", "50M", validity_days=30)
        )
        uow.commit()
    return Isp()


@pytest.fixture
def admin() -> Actor:
    return Actor.staff(2, "Amina Admin", Role.ADMIN)


@pytest.fixture
def agent() -> Actor:
    return Actor.staff(3, "Otieno Agent", Role.AGENT)


@pytest.fixture
def viewer() -> Actor:
    return Actor.staff(4, "Vera Viewer", Role.VIEWER)


Run = Callable[..., Any]


@pytest.fixture
def run(services: CoreServices) -> Run:
    """``run(use_case, *args, **kwargs)``: call ``use_case(uow, *args, **kwargs)`` and commit.

    On an error nothing is committed and the error propagates, as in every adapter.
    """

    def call(use_case: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        with services.unit_of_work() as uow:
            result = use_case(uow, *args, **kwargs)
            uow.commit()
            return result

    return call


MakeCustomer = Callable[..., int]


@pytest.fixture
def make_customer(services: CoreServices, staff: Actor, isp: Isp) -> MakeCustomer:
    """Create a customer through ``create_customer`` and return its id.

    Defaults: a PPPoE customer on Home 10M (KES 1500 / 30 days) with nothing paid (so inactive).
    ``paid=N`` records a cash first payment of N shillings. Any NewCustomer field may be given.
    """

    def make(paid: int | None = None, **fields: Any) -> int:
        form: dict[str, Any] = {
            "full_name": "Wanjiku Kamau",
            "phone": "0712345678",
            "connection_type": "pppoe",
            "plan": isp.pppoe_plan,
            "router": isp.router,
        }
        if paid is not None:
            form.update(payment_method="cash", amount_kes=paid)
        form.update(fields)
        with services.unit_of_work() as uow:
            created = create_customer(uow, staff, NewCustomer(**form))
            uow.commit()
            return created.customer.id

    return make


View = Callable[[int], SimpleNamespace]


@pytest.fixture
def view(services: CoreServices) -> View:
    """The stored state of a customer (every column, plus plan names and balance), detached."""

    def read(customer_id: int) -> SimpleNamespace:
        with services.unit_of_work() as uow:
            customer = uow.session.get(Customer, customer_id)
            assert customer is not None
            values = {
                column.key: getattr(customer, column.key) for column in Customer.__table__.columns
            }
            values["plan"] = customer.plan.name
            values["pending_plan"] = customer.pending_plan.name if customer.pending_plan else None
            values["balance_kes"] = ledger.balance_kes(uow, customer_id)
            return SimpleNamespace(**values)

    return read


@pytest.fixture
def audit_events(services: CoreServices) -> Callable[..., list[SimpleNamespace]]:
    """Audit events (as plain values), oldest first, optionally of one action or customer."""

    def read(action: str | None = None, customer_id: int | None = None) -> list[SimpleNamespace]:
        with services.unit_of_work() as uow:
            query = select(AuditEvent).order_by(AuditEvent.id)
            if action is not None:
                query = query.where(AuditEvent.action == action)
            if customer_id is not None:
                query = query.where(AuditEvent.customer_id == customer_id)
            return [
                SimpleNamespace(
                    **{
                        column.key: getattr(event, column.key)
                        for column in AuditEvent.__table__.columns
                    }
                )
                for event in uow.session.scalars(query)
            ]

    return read


@pytest.fixture
def count_rows(services: CoreServices) -> Callable[[type[Any]], int]:
    """How many rows a model's table holds."""

    def count(model: type[Any]) -> int:
        with services.unit_of_work() as uow:
            return int(uow.session.scalar(select(func.count()).select_from(model)) or 0)

    return count


@pytest.fixture
def settle(services: CoreServices, dispatcher: Any) -> Callable[[int], None]:
    """Pretend the router confirmed the customer (sync_pending cleared) and forget past events."""

    def confirm(customer_id: int) -> None:
        with services.unit_of_work() as uow:
            customer = uow.session.get(Customer, customer_id)
            assert customer is not None
            customer.sync_pending = False
            uow.commit()
        dispatcher.events.clear()

    return confirm


@pytest.fixture
def published(dispatcher: Any) -> Callable[..., list[tuple[str, int | None]]]:
    """What was dispatched, as (event name, customer id) pairs, optionally of some event types."""

    def names(*kinds: type) -> list[tuple[str, int | None]]:
        return [
            (type(event).__name__, getattr(event, "customer_id", None))
            for event in dispatcher.events
            if not kinds or isinstance(event, kinds)
        ]

    return names
