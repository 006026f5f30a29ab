"""Customers as the desired state needs them, read as plain rows rather than ORM objects.

A full reconcile reads every customer of a router (50,000 on a big one) to derive what the router
should hold, and building an ORM object per customer cost more than all the rest of the reconcile
put together. A ``CustomerRow`` carries the columns that ``customer_state`` and ``RouterSync``
read, with the customer's plan attached (plans are few: loaded once, as ORM objects).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import NamedTuple, cast

from sqlalchemy import Table, select

from core.models import Customer, Plan
from core.unit_of_work import UnitOfWork

__all__ = ["STREAM_BATCH", "CustomerRow", "iter_customers", "load_customers"]


class CustomerRow(NamedTuple):
    """A customer's columns that the router's desired state depends on, and its plan.

    The fields before ``plan`` are columns of ``customers`` of the same names, read in order.
    """

    id: int
    account_number: str
    username: str
    connection_type: str
    status: str
    expires_at: datetime | None
    deleted_at: datetime | None
    ip_address: str | None
    password_encrypted: str | None
    sync_version: int
    sync_pending: bool
    sync_error: str | None
    data_capped_at: datetime | None
    plan_id: int
    plan: Plan


_COLUMNS = CustomerRow._fields[:-1]


# Rows fetched per round trip when streaming (PostgreSQL reads them through a server-side
# cursor): a reconcile of 100,000 customers then never holds all their rows at once.
STREAM_BATCH = 1000


def load_customers(
    uow: UnitOfWork, router_id: int, *, pending_only: bool = False, limit: int | None = None
) -> list[CustomerRow]:
    """The router's customers that are not deleted, by id (only those marked ``sync_pending``
    with ``pending_only``; at most ``limit``)."""
    return list(iter_customers(uow, router_id, pending_only=pending_only, limit=limit))


def iter_customers(
    uow: UnitOfWork, router_id: int, *, pending_only: bool = False, limit: int | None = None
) -> Iterator[CustomerRow]:
    """As ``load_customers``, one batch of rows in memory at a time."""
    table = cast(Table, Customer.__table__)
    query = (
        select(*(table.c[name] for name in _COLUMNS))
        .where(table.c.router_id == router_id, table.c.deleted_at.is_(None))
        .order_by(table.c.id)
    )
    if pending_only:
        query = query.where(table.c.sync_pending.is_(True))
    if limit is not None:
        query = query.limit(limit)
    # Plans are few and shared: each is loaded once, when its first customer comes.
    plans: dict[int, Plan] = {}
    result = uow.session.execute(query.execution_options(yield_per=STREAM_BATCH))
    for row in result:
        plan = plans.get(row.plan_id)
        if plan is None:
            plan = plans[row.plan_id] = uow.session.get_one(Plan, row.plan_id)
        yield CustomerRow._make((*row, plan))
