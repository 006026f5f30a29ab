"""Removing a router: refused while customers are on it unless they move; pools go with it; the
router's history stays; it disappears from every list."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from core.errors import Conflict, InvalidInput, PermissionDenied, RouterNotFound
from core.events import CustomerRemoved
from core.models import AuditEvent, IpPool, Router
from core.reports import router_overview
from core.usecases.customers import delete_customer
from core.usecases.network import (
    RouterSpec,
    add_pool,
    add_router,
    get_router_by_name,
    list_routers,
    set_plan_pools,
)
from core.usecases.router_removal import remove_router


@pytest.fixture
def edge(run, staff, isp) -> str:
    run(add_router, staff, RouterSpec("edge-2", "10.0.0.2", 8728, "api", "pw", plain_api=True))
    run(add_pool, staff, "edge-2", "10.40.0.0/29")
    return "edge-2"


def test_a_router_with_customers_is_not_removed_without_a_destination(
    run, staff, isp, make_customer, services
) -> None:
    make_customer()

    with pytest.raises(Conflict, match=r"1 customer\(s\) are still on core-1: move them"):
        run(remove_router, staff, "core-1")
    with services.unit_of_work() as uow:
        assert get_router_by_name(uow, "core-1").removed_at is None


def test_customers_move_and_are_marked_for_sync_on_the_new_router(
    run, staff, isp, edge, make_customer, view, dispatcher, services
) -> None:
    first, second = make_customer(), make_customer(full_name="Otieno Ouma", phone="0722000111")
    old_router = view(first).router_id
    dispatcher.events.clear()

    removal = run(remove_router, staff, "core-1", move_to=edge)

    assert (removal.name, removal.moved, removal.moved_to, removal.pools) == (
        "core-1",
        2,
        "edge-2",
        ["10.10.0.0/29"],
    )
    for customer_id in (first, second):
        moved = view(customer_id)
        assert moved.router_id != old_router and moved.ip_address.startswith("10.40.0.")
        assert moved.sync_pending
    assert {event.router_id for event in dispatcher.of_type(CustomerRemoved)} == {old_router}
    with services.unit_of_work() as uow:
        assert [router.name for router in list_routers(uow)] == ["edge-2"]
        assert [line.name for line in router_overview(uow)] == ["edge-2"]
        with pytest.raises(RouterNotFound):
            get_router_by_name(uow, "core-1")
        gone = uow.session.get(Router, old_router)
        assert gone is not None and gone.removed_at is not None and gone.status == "removed"
        assert uow.session.scalar(select(func.count()).select_from(IpPool).where(
            IpPool.router_id == old_router
        )) == 0  # fmt: skip
        (event,) = uow.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "router.remove")
        )
        assert event.after == {"moved": 2, "moved_to": "edge-2"}
        assert "secret" not in str(event.before) + str(event.after)


def test_an_empty_router_is_removed_and_its_name_stays_taken(
    run, staff, isp, edge, make_customer
) -> None:
    gone = make_customer(router=edge)
    run(delete_customer, gone, staff)  # deleted customers keep their history on the router

    run(remove_router, staff, edge)

    with pytest.raises(Conflict, match="removed; its history keeps the name"):
        run(add_router, staff, RouterSpec("EDGE-2", "10.0.0.3", 8728, "a", "p", plain_api=True))


def test_bad_removals_change_nothing(run, staff, isp, edge, viewer, make_customer) -> None:
    make_customer()
    cases = [
        ((viewer, "core-1"), {}, PermissionDenied, None),
        ((staff, "nowhere-9"), {}, RouterNotFound, "router not found"),
        ((staff, "core-1"), {"move_to": "nowhere-9"}, RouterNotFound, "router not found"),
        ((staff, "core-1"), {"move_to": "CORE-1"}, InvalidInput, "another router"),
    ]
    for args, kwargs, error, words in cases:
        with pytest.raises(error, match=words):
            run(remove_router, *args, **kwargs)


def test_a_plan_left_with_no_pool_is_refused(run, staff, isp, edge, services) -> None:
    run(set_plan_pools, staff, isp.pppoe_plan, ["edge-2:10.40.0.0/29"])

    with pytest.raises(Conflict, match="plan Home 10M gives addresses only from pools of edge-2"):
        run(remove_router, staff, edge)

    run(set_plan_pools, staff, isp.pppoe_plan, ["edge-2:10.40.0.0/29", "core-1:10.10.0.0/29"])
    run(remove_router, staff, edge)


def test_a_removed_router_is_never_checked_reconciled_or_sampled_again(
    run, staff, isp, edge, services
) -> None:
    from routers.sync import RouterSync
    from routers.usage import UsageSampler

    def no_gateway(login):  # type: ignore[no-untyped-def]
        raise AssertionError(f"{login.name} contacted")

    run(remove_router, staff, edge)

    with services.unit_of_work() as uow:
        (core_id,) = [router.id for router in list_routers(uow)]
    assert RouterSync(services, no_gateway).router_ids() == [core_id]
    assert UsageSampler(services, no_gateway).router_ids() == [core_id]
