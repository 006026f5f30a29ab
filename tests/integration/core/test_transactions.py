"""Every use case is one transaction: a failure half-way leaves no trace in the database."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest

from core import audit
from core.actors import Actor
from core.models import Customer
from core.usecases.billing import (
    IncomingPayment,
    assign_payment,
    record_debt,
    record_payment,
    record_unmatched_payment,
    unmatched_payments,
)
from core.usecases.customers import (
    CustomerChanges,
    NewCustomer,
    change_password,
    create_customer,
    delete_customer,
    edit_customer,
)
from core.usecases.service import (
    PlanChangeTiming,
    change_plan,
    expire_if_due,
    extend,
    suspend,
    unsuspend,
)


class AuditDown(Exception):
    """Stands for any failure after the use case has already written rows."""


@pytest.fixture
def audit_fails_on(monkeypatch) -> Callable[[str], list[str]]:
    """Make ``audit.record`` raise for one action; returns the actions it was asked to record."""

    def install(action: str) -> list[str]:
        original = audit.record
        seen: list[str] = []

        def record(uow: Any, actor: Actor, name: str, **kwargs: Any) -> Any:
            seen.append(name)
            if name == action:
                raise AuditDown(name)
            return original(uow, actor, name, **kwargs)

        monkeypatch.setattr(audit, "record", record)
        return seen

    return install


@pytest.fixture
def customer_id(new_customer) -> int:
    return new_customer(paid=1500)


def _customer_row(services, customer_id: int) -> dict[str, Any]:
    with services.unit_of_work() as uow:
        customer = uow.session.get(Customer, customer_id)
        return {column.key: getattr(customer, column.key) for column in Customer.__table__.columns}


# (what to run, the audit action to fail on, actions that must have run before it)
CASES: dict[str, tuple[Callable[[Any, Actor, int], Any], str, list[str]]] = {
    "payment, failing after the payment row": (
        lambda uow, actor, cid: record_payment(
            uow, cid, actor, IncomingPayment(1500, "mpesa", "RK1")
        ),
        "payment.record",
        [],
    ),
    "payment, failing in the renewal": (
        lambda uow, actor, cid: record_payment(uow, cid, actor, IncomingPayment(3000, "cash")),
        "customer.renew",
        ["payment.record"],
    ),
    "create customer with payment": (
        lambda uow, actor, cid: create_customer(
            uow,
            actor,
            NewCustomer(
                "New Person",
                "0722000111",
                "pppoe",
                "Home 10M",
                "core-1",
                payment_method="cash",
                installation_fee_kes=1000,
            ),
        ),
        "customer.renew",
        ["customer.create", "payment.record"],
    ),
    "debt": (
        lambda uow, actor, cid: record_debt(uow, cid, actor, 500),
        "customer.debt",
        [],
    ),
    "suspend": (lambda uow, actor, cid: suspend(uow, cid, actor, "x"), "customer.suspend", []),
    "extend": (
        lambda uow, actor, cid: extend(uow, cid, actor, until=date(2027, 6, 1), reason="x"),
        "customer.extend",
        [],
    ),
    "edit": (
        lambda uow, actor, cid: edit_customer(
            uow, cid, actor, CustomerChanges(username="renamed", ip_address="10.10.0.77")
        ),
        "customer.edit",
        [],
    ),
    "password": (
        lambda uow, actor, cid: change_password(uow, cid, actor, "n3w-pass"),
        "customer.password",
        [],
    ),
    "plan change": (
        lambda uow, actor, cid: change_plan(uow, cid, actor, "Home 10M", PlanChangeTiming.RENEWAL),
        "customer.plan.renewal",
        [],
    ),
    "forced delete": (
        lambda uow, actor, cid: delete_customer(uow, cid, actor, force=True),
        "customer.delete",
        [],
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_failure_half_way_writes_nothing(
    isp_db, staff, customer_id, table_counts, audit_fails_on, dispatcher, case
) -> None:
    use_case, failing_action, earlier = CASES[case]
    counts = table_counts()
    row = _customer_row(isp_db, customer_id)
    dispatcher.events.clear()
    seen = audit_fails_on(failing_action)

    with pytest.raises(AuditDown), isp_db.unit_of_work() as uow:
        use_case(uow, staff, customer_id)
        uow.commit()

    assert seen == [*earlier, failing_action]
    assert table_counts() == counts
    assert _customer_row(isp_db, customer_id) == row
    assert dispatcher.events == []


def test_expiry_and_unsuspend_failing_write_nothing(
    isp_db, staff, customer_id, clock, table_counts, audit_fails_on, dispatcher, state
) -> None:
    with isp_db.unit_of_work() as uow:
        record_payment(uow, customer_id, staff, IncomingPayment(1000, "cash"))
        uow.commit()
    clock.advance(timedelta(days=31))
    counts = table_counts()
    dispatcher.events.clear()
    audit_fails_on("customer.expire")
    with pytest.raises(AuditDown), isp_db.unit_of_work() as uow:
        expire_if_due(uow, customer_id)
        uow.commit()
    assert state(customer_id)["status"] == "active"
    assert table_counts() == counts
    assert dispatcher.events == []


def test_assigning_money_failing_leaves_it_unmatched(
    isp_db, staff, customer_id, table_counts, audit_fails_on, state
) -> None:
    with isp_db.unit_of_work() as uow:
        record_unmatched_payment(uow, Actor.mpesa(), IncomingPayment(1500, "mpesa", "RKU1"))
        uow.commit()
    counts = table_counts()
    audit_fails_on("customer.renew")
    with pytest.raises(AuditDown), isp_db.unit_of_work() as uow:
        assign_payment(uow, staff, "RKU1", customer_id)
        uow.commit()
    assert table_counts() == counts
    with isp_db.unit_of_work() as uow:
        (payment,) = unmatched_payments(uow)
        assert payment.customer_id is None


def test_unsuspend_failing_keeps_the_suspension(
    isp_db, staff, customer_id, audit_fails_on, state
) -> None:
    with isp_db.unit_of_work() as uow:
        suspend(uow, customer_id, staff, "check")
        uow.commit()
    audit_fails_on("customer.unsuspend")
    with pytest.raises(AuditDown), isp_db.unit_of_work() as uow:
        unsuspend(uow, customer_id, staff)
        uow.commit()
    assert state(customer_id)["status"] == "suspended"
