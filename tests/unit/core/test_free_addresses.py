"""The IP picker: free addresses of a pool, searched by prefix in big blocks, and plans that name
the pools their customers get addresses from (16.6)."""

from __future__ import annotations

import pytest

from core.errors import AddressUnavailable, InvalidInput, PermissionDenied, PoolNotFound
from core.usecases.customers import CustomerChanges, edit_customer
from core.usecases.network import (
    RouterSpec,
    add_pool,
    add_router,
    addresses_to_offer,
    list_free_addresses,
    plan_pool_labels,
    set_plan_pools,
)


def _edge(run, staff, cidr: str, name: str = "edge-2") -> None:
    run(add_router, staff, RouterSpec(name, "192.168.88.1", 8728, "api", "pw", plain_api=True))
    run(add_pool, staff, name, cidr)


def test_free_addresses_skip_the_router_network_broadcast_and_customers(
    run, staff, make_customer
) -> None:
    free = run(list_free_addresses, staff, "10.10.0.0/29")
    assert (free.router, free.pool, free.block) == ("core-1", "10.10.0.0/29", "10.10.0.0/29")
    assert free.addresses == ["10.10.0.2", "10.10.0.3", "10.10.0.4", "10.10.0.5", "10.10.0.6"]
    assert (free.free_count, free.more) == (5, False)
    make_customer()
    make_customer(phone="0722000111", ip_address="10.10.0.5")
    free = run(list_free_addresses, staff, "core-1:10.10.0.0/29")
    assert free.addresses == ["10.10.0.3", "10.10.0.4", "10.10.0.6"]
    assert free.free_count == 3


def test_a_prefix_searches_one_block_of_a_16(run, staff, make_customer, isp) -> None:
    _edge(run, staff, "10.20.0.0/16")
    make_customer(router="edge-2", ip_address="10.20.3.1")
    make_customer(router="edge-2", ip_address="10.20.4.9", phone="0722000111")
    free = run(list_free_addresses, staff, "10.20.0.0/16", prefix="10.20.3", limit=3)
    assert free.block == "10.20.3.0/24"
    assert free.addresses == ["10.20.3.0", "10.20.3.2", "10.20.3.3"]
    assert (free.free_count, free.more) == (255, True)
    # The next page starts after the last address shown.
    page = run(
        list_free_addresses, staff, "10.20.0.0/16", prefix="10.20.3", limit=2, after="10.20.3.3"
    )
    assert page.addresses == ["10.20.3.4", "10.20.3.5"]
    end = run(
        list_free_addresses, staff, "10.20.0.0/16", prefix="10.20.3.0/24", after="10.20.3.254"
    )
    assert (end.addresses, end.more) == (["10.20.3.255"], False)


def test_the_whole_16_is_counted_without_listing_it(run, staff, make_customer, isp) -> None:
    _edge(run, staff, "10.20.0.0/16")
    make_customer(router="edge-2")
    free = run(list_free_addresses, staff, "10.20.0.0/16", limit=2)
    # 65,536 less network, broadcast, the router's .1 and the customer's .2.
    assert free.free_count == 65_532
    assert free.addresses == ["10.20.0.3", "10.20.0.4"]


def test_a_prefix_in_an_18_and_one_outside_it(run, staff, isp) -> None:
    _edge(run, staff, "10.30.0.0/18")
    free = run(list_free_addresses, staff, "10.30.0.0/18", prefix="10.30.63.", limit=1)
    assert (free.block, free.addresses) == ("10.30.63.0/24", ["10.30.63.0"])
    wider = run(list_free_addresses, staff, "10.30.0.0/18", prefix="10.30", limit=1)
    assert wider.block == "10.30.0.0/18"
    with pytest.raises(InvalidInput, match=r"10\.30\.70 is outside the pool 10\.30\.0\.0/18"):
        run(list_free_addresses, staff, "10.30.0.0/18", prefix="10.30.70")


@pytest.mark.parametrize(
    ("pool", "options", "error", "message"),
    [
        ("10.99.0.0/24", {}, PoolNotFound, "no pool 10.99.0.0/24"),
        ("edge-9:10.10.0.0/29", {}, PoolNotFound, "no pool 10.10.0.0/29 on edge-9"),
        ("10.10.0.0", {}, InvalidInput, "not a network"),
        ("10.10.0.0/29", {"prefix": "10.x"}, InvalidInput, "not a prefix like 10.0.3"),
        ("10.10.0.0/29", {"limit": 0}, InvalidInput, "the limit must be 1 to 1000"),
        ("10.10.0.0/29", {"after": "nine"}, InvalidInput, "is not an IP address"),
    ],
)
def test_bad_input_is_refused(run, staff, isp, pool, options, error, message) -> None:
    with pytest.raises(error, match=message):
        run(list_free_addresses, staff, pool, **options)


def test_a_block_on_two_routers_must_be_named_with_its_router(run, staff, isp) -> None:
    _edge(run, staff, "10.10.0.0/29")
    with pytest.raises(InvalidInput, match="several routers: say which"):
        run(list_free_addresses, staff, "10.10.0.0/29")
    assert run(list_free_addresses, staff, "edge-2:10.10.0.0/29").router == "edge-2"


def test_viewers_may_look(run, viewer, isp) -> None:
    assert run(list_free_addresses, viewer, "10.10.0.0/29").free_count == 5


def test_a_plan_naming_pools_gives_addresses_only_from_them(
    run, staff, make_customer, view, isp
) -> None:
    run(add_pool, staff, "core-1", "10.10.1.0/29")
    run(set_plan_pools, staff, isp.pppoe_plan_big, ["10.10.1.0/29"])
    assert run(plan_pool_labels, 2) == ["core-1:10.10.1.0/29"]
    big = make_customer(plan=isp.pppoe_plan_big)
    assert view(big).ip_address == "10.10.1.2"
    other = make_customer(phone="0722000111")
    assert view(other).ip_address == "10.10.0.2"
    with pytest.raises(AddressUnavailable, match="outside the plan's pools on core-1"):
        make_customer(plan=isp.pppoe_plan_big, ip_address="10.10.0.4", phone="0733000111")
    with pytest.raises(AddressUnavailable, match="outside the plan's pools"):
        run(edit_customer, big, staff, CustomerChanges(ip_address="10.10.0.4"))
    # No pools named: any pool of the router again.
    run(set_plan_pools, staff, isp.pppoe_plan_big, [])
    run(edit_customer, big, staff, CustomerChanges(ip_address="10.10.0.4"))
    assert view(big).ip_address == "10.10.0.4"


def test_a_plan_whose_pools_are_on_another_router_is_refused_here(
    run, staff, make_customer, isp
) -> None:
    _edge(run, staff, "10.20.0.0/16")
    run(set_plan_pools, staff, isp.pppoe_plan_big, ["10.20.0.0/16"])
    with pytest.raises(AddressUnavailable, match="none of the plan's pools is on core-1"):
        make_customer(plan=isp.pppoe_plan_big)
    assert make_customer(plan=isp.pppoe_plan_big, router="edge-2") > 0


def test_plan_pools_are_audited_and_refused_for_hotspot_and_agents(
    run, staff, agent, isp, audit_events
) -> None:
    run(set_plan_pools, staff, isp.pppoe_plan, ["10.10.0.0/29"])
    (event,) = audit_events("plan.pools")
    assert (event.actor_name, event.before, event.after) == (
        "command line",
        {"pools": []},
        {"pools": ["core-1:10.10.0.0/29"]},
    )
    with pytest.raises(InvalidInput, match="hotspot"):
        run(set_plan_pools, staff, isp.hotspot_plan, ["10.10.0.0/29"])
    with pytest.raises(PermissionDenied):
        run(set_plan_pools, agent, isp.pppoe_plan, [])


def test_addresses_offered_to_a_new_customer_follow_the_plan_and_prefix(
    run, staff, make_customer, isp
) -> None:
    run(add_pool, staff, "core-1", "10.10.1.0/29")
    make_customer()
    assert run(addresses_to_offer, staff, "core-1", isp.pppoe_plan, limit=3) == [
        "10.10.0.3",
        "10.10.0.4",
        "10.10.0.5",
    ]
    assert run(addresses_to_offer, staff, "core-1", isp.pppoe_plan, prefix="10.10.1", limit=2) == [
        "10.10.1.2",
        "10.10.1.3",
    ]
    run(set_plan_pools, staff, isp.pppoe_plan_big, ["10.10.1.0/29"])
    assert run(addresses_to_offer, staff, "core-1", isp.pppoe_plan_big, limit=1) == ["10.10.1.2"]
    with pytest.raises(InvalidInput, match="in none of the pools offered on core-1"):
        run(addresses_to_offer, staff, "core-1", isp.pppoe_plan_big, prefix="10.10.0")
