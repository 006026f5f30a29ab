"""The audit trail: every use case records who did what, with only the fields that changed."""

from __future__ import annotations

from datetime import timedelta

import pytest

from core.actors import Actor
from core.audit import changed, snapshot
from core.errors import PermissionDenied
from core.models import Customer
from core.testing import TEST_EPOCH
from core.usecases.billing import (
    IncomingPayment,
    assign_payment,
    record_debt,
    record_payment,
    record_unmatched_payment,
)
from core.usecases.customers import (
    CustomerChanges,
    NewCustomer,
    change_password,
    create_customer,
    delete_customer,
    edit_customer,
)
from core.usecases.network import RouterChange, RouterSpec, add_pool, add_router, edit_router
from core.usecases.plans import PlanSpec, add_plan, set_plan_active
from core.usecases.renewal import renew
from core.usecases.service import (
    PlanChangeTiming,
    change_plan,
    disconnect,
    expire_if_due,
    extend,
    suspend,
    unsuspend,
)
from core.usecases.staff import add_staff, change_role, remove_staff
from core.vocabulary import Role

PERIOD = timedelta(days=30)
END = TEST_EPOCH + PERIOD


def test_changed_keeps_only_differing_keys() -> None:
    before = {"a": 1, "b": 2, "c": None}
    after = {"a": 1, "b": 3, "c": "x"}
    assert changed(before, after) == ({"b": 2, "c": None}, {"b": 3, "c": "x"})


def test_changed_keeps_keys_only_one_side_has() -> None:
    """A deletion records the status it ended and whether it was forced; 'after' lacks both."""
    before = {"status": "active", "forced": True}
    after = {"deleted": True}
    assert changed(before, after) == (before, after)


def test_snapshot_says_whether_a_password_is_set_never_what_it_is() -> None:
    customer = Customer(full_name="A", password_encrypted="gAAAA-ciphertext", status="active")
    values = snapshot(customer)
    assert values["password_set"] is True
    assert "gAAAA-ciphertext" not in repr(values)
    assert "password_encrypted" not in values


@pytest.fixture
def active(make_customer, clock) -> int:
    return make_customer(paid=1500)


# Each case: (use case to run, action, before, after) — before/after None means "not compared".
CASES = {
    "edit": (
        lambda run, actor, cid: run(edit_customer, cid, actor, CustomerChanges(notes="gate B")),
        "customer.edit",
        {"notes": None},
        {"notes": "gate B"},
    ),
    "edit phone": (
        lambda run, actor, cid: run(edit_customer, cid, actor, CustomerChanges(phone="0733000111")),
        "customer.edit",
        {"phone": "+254712345678"},
        {"phone": "+254733000111"},
    ),
    "password": (
        lambda run, actor, cid: run(change_password, cid, actor, "n3w-pass"),
        "customer.password",
        None,
        {"password": "changed"},
    ),
    "suspend": (
        lambda run, actor, cid: run(suspend, cid, actor, "abuse"),
        "customer.suspend",
        {"status": "active", "suspended_reason": None},
        {"status": "suspended", "suspended_reason": "abuse"},
    ),
    "extend": (
        lambda run, actor, cid: run(extend, cid, actor, days=2, reason="outage"),
        "customer.extend",
        {"expires_at": END.isoformat()},
        {"expires_at": (END + timedelta(days=2)).isoformat()},
    ),
    "disconnect": (
        lambda run, actor, cid: run(disconnect, cid, actor, "stuck"),
        "customer.disconnect",
        None,
        None,
    ),
    "debt": (
        lambda run, actor, cid: run(record_debt, cid, actor, 300, "cable"),
        "customer.debt",
        {},
        {},
    ),
    "payment": (
        lambda run, actor, cid: run(record_payment, cid, actor, IncomingPayment(100, "cash")),
        "payment.record",
        None,
        {"amount_kes": 100, "method": "cash", "reference": None},
    ),
    "renewal": (
        lambda run, actor, cid: run(record_payment, cid, actor, IncomingPayment(1500, "cash")),
        "customer.renew",
        {"expires_at": END.isoformat()},
        {"expires_at": (END + PERIOD).isoformat()},
    ),
    "plan now": (
        lambda run, actor, cid: run(change_plan, cid, actor, "Home 20M", PlanChangeTiming.NOW),
        "customer.plan.now",
        {"plan_id": 1},
        {"plan_id": 2},
    ),
    "plan at renewal": (
        lambda run, actor, cid: run(change_plan, cid, actor, "Home 20M"),
        "customer.plan.renewal",
        {"pending_plan_id": None},
        {"pending_plan_id": 2},
    ),
    "delete": (
        lambda run, actor, cid: run(delete_customer, cid, actor, force=True, reason="moved"),
        "customer.delete",
        {"status": "active", "forced": True},
        {"deleted": True},
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_customer_use_cases_audit_actor_and_changed_fields(
    run, staff, active, audit_events, clock, case
) -> None:
    use_case, action, before, after = CASES[case]
    clock.advance(timedelta(hours=1))
    already = len(audit_events())
    use_case(run, staff, active)
    events = [event for event in audit_events()[already:] if event.action == action]
    assert len(events) == 1, [event.action for event in audit_events()[already:]]
    (event,) = events
    assert (event.actor_kind, event.actor_id, event.actor_name) == ("staff", "cli", "command line")
    assert event.at == clock.now()
    assert event.customer_id == active
    if before is not None:
        assert event.before == before
    if after is not None:
        assert event.after == after
    if event.before is not None and event.after is not None and case != "delete":
        assert set(event.before) == set(event.after)
        assert all(event.before[key] != event.after[key] for key in event.before)


def test_debt_audit_lists_only_what_changed(run, staff, make_customer, audit_events) -> None:
    customer_id = make_customer()
    run(record_debt, customer_id, staff, 1500)
    (event,) = audit_events("customer.debt")
    assert set(event.after) == {"status", "expires_at"}
    assert event.before == {"status": "inactive", "expires_at": None}


def test_unsuspend_and_expiry_are_audited(run, staff, active, audit_events, clock) -> None:
    run(suspend, active, staff, "abuse")
    run(unsuspend, active, staff, "apologised")
    (lifted,) = audit_events("customer.unsuspend")
    assert lifted.before == {"status": "suspended", "suspended_reason": "abuse"}
    assert lifted.after == {"status": "active", "suspended_reason": None}
    assert lifted.reason == "apologised"
    clock.set(END)
    run(expire_if_due, active)
    (expired,) = audit_events("customer.expire")
    assert (expired.actor_kind, expired.actor_name) == ("system", "expiry")


def test_renew_use_case_is_audited_with_the_acting_party(
    run, staff, make_customer, audit_events
) -> None:
    customer_id = make_customer()
    run(record_payment, customer_id, staff, IncomingPayment(1500, "cash"), activate=False)
    run(renew, customer_id, Actor.system("night job"))
    (event,) = audit_events("customer.renew")
    assert (event.actor_kind, event.actor_name) == ("system", "night job")
    assert event.before == {"status": "inactive", "expires_at": None}
    assert event.after == {"status": "active", "expires_at": END.isoformat()}
    assert event.reason == "1 period(s) of Home 10M"


def test_mpesa_and_subscriber_actors_are_named(run, make_customer, audit_events) -> None:
    customer_id = make_customer()
    run(record_payment, customer_id, Actor.mpesa(), IncomingPayment(50, "mpesa", "RKQ1"))
    run(change_plan, customer_id, Actor.subscriber("+254712345678"), "Home 20M")
    (payment,) = audit_events("payment.record")
    assert (payment.actor_kind, payment.actor_id) == ("mpesa", "mpesa")
    assert payment.actor_name == "M-Pesa"
    (plan,) = audit_events("customer.plan.renewal")
    assert (plan.actor_kind, plan.actor_id) == ("subscriber", "+254712345678")


def test_network_plan_staff_and_unmatched_money_use_cases_are_audited(
    run, staff, isp, make_customer, audit_events
) -> None:
    run(add_router, staff, RouterSpec("edge-2", "10.0.0.2", 8728, "api", "pw", plain_api=True))
    run(add_pool, staff, "edge-2", "10.30.0.0/24")
    run(add_plan, staff, PlanSpec("Night", "hotspot", 20, "2M", "1M", validity_hours=8))
    run(set_plan_active, staff, "Night", False)
    run(add_staff, staff, 1001, "Owner One", "owner")
    run(add_staff, staff, 1002, "Agent Two", "agent")
    run(change_role, staff, 1002, "admin")
    run(remove_staff, staff, 1002)
    run(record_unmatched_payment, Actor.mpesa(), IncomingPayment(1500, "mpesa", "RKU1"))
    customer_id = make_customer()
    run(assign_payment, staff, "RKU1", customer_id)

    by_action = {event.action: event for event in audit_events()}
    assert by_action["router.create"].after == {
        "name": "edge-2",
        "host": "10.0.0.2",
        "api_port": 8728,
        "username": "api",
        "tls": False,
        "tls_fingerprint": None,
        "tls_ca": None,
    }
    assert by_action["pool.create"].after == {"router": "edge-2", "cidr": "10.30.0.0/24"}
    assert by_action["plan.create"].after == {
        "name": "Night",
        "price_kes": 20,
        "rate_limit": "1M/2M",
    }
    assert (by_action["plan.retire"].before, by_action["plan.retire"].after) == (
        {"active": True},
        {"active": False},
    )
    assert by_action["staff.add"].after["role"] == "agent"
    assert (by_action["staff.role"].before, by_action["staff.role"].after) == (
        {"role": "agent"},
        {"role": "admin"},
    )
    assert by_action["staff.remove"].after == {"active": False}
    assert by_action["payment.unmatched"].actor_kind == "mpesa"
    assert by_action["payment.unmatched"].customer_id is None
    assigned = [event for event in audit_events("payment.record") if event.actor_id == "cli"]
    assert assigned[-1].customer_id == customer_id


def test_no_password_ever_reaches_the_audit_trail(run, staff, isp, audit_events) -> None:
    secrets = ["Sup3r-Secret", "N3w-Secret-99", "R0uter-Pa55"]
    created = run(
        create_customer,
        staff,
        NewCustomer(
            "Pat Kim", "0712345678", "pppoe", isp.pppoe_plan, isp.router, password=secrets[0]
        ),
    )
    run(change_password, created.customer.id, staff, secrets[1])
    generated = run(change_password, created.customer.id, staff)
    run(
        add_router, staff, RouterSpec("edge-9", "10.0.0.9", 8728, "api", secrets[2], plain_api=True)
    )
    secrets.append("R0tated-Pa55")
    run(edit_router, staff, "edge-9", RouterChange(password=secrets[3]))
    trail = repr([(event.before, event.after, event.reason) for event in audit_events()])
    for secret in [*secrets, generated]:
        assert secret not in trail
    assert audit_events("customer.create")[0].after["password_set"] is True


def test_only_admins_and_owners_may_edit_a_router(run, staff, isp, audit_events) -> None:
    for role in (Role.AGENT, Role.VIEWER):
        with pytest.raises(PermissionDenied):
            run(edit_router, Actor.staff(9, "Not Admin", role), isp.router, RouterChange(host="x"))
    assert audit_events("router.edit") == []
