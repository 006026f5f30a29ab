"""Routers, address pools, and giving customers addresses (never one address to two customers)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from core.errors import AddressUnavailable, Conflict, InvalidInput, RouterNotFound
from core.models import Customer
from core.usecases.customers import CustomerChanges, delete_customer, edit_customer
from core.usecases.network import (
    PLAIN_API_WARNING,
    TLS_UNVERIFIED_WARNING,
    RouterChange,
    RouterSpec,
    add_pool,
    add_router,
    edit_router,
    get_router_by_name,
    list_routers,
    router_login,
    transport_warning,
)


def _router(name: str = "edge-2", **changes: object) -> RouterSpec:
    fields: dict[str, object] = {
        "name": name,
        "host": "192.168.88.1",
        "api_port": 8729,
        "username": "api",
        "password": "r0uter-pass",
        "tls_fingerprint": "AB:" * 31 + "AB",
    }
    fields.update(changes)
    return RouterSpec(**fields)  # type: ignore[arg-type]


def test_add_router_keeps_its_details_and_encrypts_the_password(run, services, staff) -> None:
    router = run(add_router, staff, _router())
    assert (router.name, router.host, router.api_port, router.username, router.use_tls) == (
        "edge-2",
        "192.168.88.1",
        8729,
        "api",
        True,
    )
    assert router.status == "unknown"
    assert "r0uter-pass" not in router.password_encrypted
    assert services.cipher.decrypt(router.password_encrypted) == "r0uter-pass"
    login = run(router_login, router.id)
    assert (login.host, login.api_port, login.password, login.use_tls) == (
        "192.168.88.1",
        8729,
        "r0uter-pass",
        True,
    )


def test_a_router_is_reached_over_verified_tls_or_a_plain_api_said_out_loud(run, staff) -> None:
    pinned = run(add_router, staff, _router("pinned"))
    by_ca = run(add_router, staff, _router("by-ca", tls_fingerprint=None, tls_ca="/etc/ca.pem"))
    plain = run(
        add_router, staff, _router("plain", tls_fingerprint=None, api_port=8728, plain_api=True)
    )

    assert (pinned.use_tls, pinned.tls_fingerprint, transport_warning(pinned)) == (
        True,
        "ab" * 32,
        None,
    )
    assert (by_ca.use_tls, by_ca.tls_ca, transport_warning(by_ca)) == (True, "/etc/ca.pem", None)
    assert (plain.use_tls, transport_warning(plain)) == (False, PLAIN_API_WARNING)
    login = run(router_login, pinned.id)
    assert (login.tls_fingerprint, login.tls_ca) == ("ab" * 32, None)
    assert "r0uter-pass" not in repr(login)


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"tls_fingerprint": None}, "say how to reach the router's API"),
        ({"tls_fingerprint": None, "use_tls": True}, "say how to reach the router's API"),
        ({"tls_fingerprint": "abc"}, "64 hex digits"),
        ({"tls_ca": "/etc/ca.pem"}, "not both"),
        ({"plain_api": True}, "without TLS"),
    ],
)
def test_unverified_or_contradictory_tls_is_refused(run, staff, changes, words) -> None:
    with pytest.raises(InvalidInput, match=words):
        run(add_router, staff, _router("edge-9", **changes))


def test_an_unverified_tls_router_from_before_is_flagged_until_pinned(run, staff, isp) -> None:
    router = run(add_router, staff, _router("legacy"))
    router.tls_fingerprint = None  # as migration 0017 leaves a TLS router added before it
    assert transport_warning(router) == TLS_UNVERIFIED_WARNING

    pinned = run(edit_router, staff, "legacy", RouterChange(tls_fingerprint="cd" * 32))
    assert (pinned.use_tls, pinned.tls_fingerprint, transport_warning(pinned)) == (
        True,
        "cd" * 32,
        None,
    )
    plain = run(edit_router, staff, "legacy", RouterChange(plain_api=True))
    assert (plain.use_tls, plain.tls_fingerprint, plain.tls_ca) == (False, None, None)


def test_router_names_are_unique_whatever_the_case(run, staff, isp) -> None:
    with pytest.raises(Conflict, match="already exists"):
        run(add_router, staff, _router("CORE-1"))


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"api_port": 0}, "port must be 1 to 65535"),
        ({"api_port": 70000}, "port must be 1 to 65535"),
        ({"host": " "}, "needs a name, a host and a username"),
        ({"username": ""}, "needs a name, a host and a username"),
        ({"name": ""}, "needs a name, a host and a username"),
    ],
)
def test_bad_router_details_are_refused(run, staff, changes: dict[str, object], message) -> None:
    with pytest.raises(InvalidInput, match=message):
        run(add_router, staff, _router(**changes))


def test_find_and_list_routers(run, staff, isp) -> None:
    run(add_router, staff, _router("alpha"))
    assert [router.name for router in run(list_routers)] == ["alpha", "core-1"]
    assert run(get_router_by_name, " Core-1 ").name == "core-1"
    with pytest.raises(RouterNotFound, match="router not found"):
        run(get_router_by_name, "nowhere")
    with pytest.raises(RouterNotFound):
        run(router_login, 999)


@pytest.mark.parametrize("cidr", ["10.10.0.0/29", "10.10.0.0/24", "10.10.0.4/30", "10.0.0.0/8"])
def test_overlapping_pool_on_the_same_router_is_refused(run, staff, isp, cidr: str) -> None:
    with pytest.raises(Conflict, match=r"overlaps 10\.10\.0\.0/29"):
        run(add_pool, staff, isp.router, cidr)


def test_separate_pools_and_other_routers_are_fine(run, staff, isp) -> None:
    assert run(add_pool, staff, isp.router, "10.10.0.8/29").cidr == "10.10.0.8/29"
    run(add_router, staff, _router())
    assert run(add_pool, staff, "edge-2", " 10.10.0.0/29 ").cidr == "10.10.0.0/29"


@pytest.mark.parametrize(
    ("cidr", "message"),
    [
        ("10.10.0.1/29", "not a network"),
        ("banana", "not a network"),
        ("fd00::/64", "only IPv4"),
        ("10.10.0.0/31", "at least a /30"),
    ],
)
def test_bad_pools_are_refused(run, staff, isp, cidr: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        run(add_pool, staff, isp.router, cidr)


def test_pool_on_unknown_router_is_refused(run, staff) -> None:
    with pytest.raises(RouterNotFound):
        run(add_pool, staff, "ghost", "10.0.0.0/24")


def test_first_host_is_reserved_for_the_router(make_customer, view) -> None:
    assert view(make_customer()).ip_address == "10.10.0.2"


def test_addresses_are_given_in_order_and_never_twice_until_the_pool_runs_out(
    make_customer, view
) -> None:
    given = [view(make_customer()).ip_address for _ in range(5)]
    assert given == ["10.10.0.2", "10.10.0.3", "10.10.0.4", "10.10.0.5", "10.10.0.6"]
    with pytest.raises(AddressUnavailable, match="no free address in pool"):
        make_customer()


def test_a_second_pool_is_used_when_the_first_is_full(run, staff, isp, make_customer, view) -> None:
    run(add_pool, staff, isp.router, "10.20.0.0/30")
    for _ in range(5):
        make_customer()
    assert view(make_customer()).ip_address == "10.20.0.2"


def test_chosen_free_address_inside_the_pool_is_given(make_customer, view) -> None:
    assert view(make_customer(ip_address=" 10.10.0.5 ")).ip_address == "10.10.0.5"
    assert view(make_customer()).ip_address == "10.10.0.2"


@pytest.mark.parametrize(
    ("address", "message"),
    [
        ("10.10.0.1", "router's own address"),
        ("10.10.0.9", "outside core-1's pools"),
        ("192.168.1.10", "outside core-1's pools"),
        ("10.10.0.0", "10.10.0.0"),
        ("10.10.0.7", "10.10.0.7"),
    ],
)
def test_chosen_address_must_be_a_customer_address_of_a_pool(
    make_customer, address: str, message: str
) -> None:
    with pytest.raises(AddressUnavailable, match=message):
        make_customer(ip_address=address)


def test_chosen_address_already_given_is_refused(make_customer) -> None:
    make_customer(ip_address="10.10.0.4")
    with pytest.raises(AddressUnavailable, match="already given to another customer"):
        make_customer(ip_address="10.10.0.4")


@pytest.mark.parametrize("address", ["10.10.0", "not-an-ip", "fd00::5"])
def test_malformed_chosen_address_is_refused(make_customer, address: str) -> None:
    with pytest.raises(InvalidInput):
        make_customer(ip_address=address)


def test_static_customer_on_a_router_without_pool_needs_an_address(
    run, staff, isp, make_customer, view
) -> None:
    run(add_router, staff, _router())
    static = {"connection_type": "static", "plan": isp.static_plan, "router": "edge-2"}
    with pytest.raises(AddressUnavailable, match="IP address is required"):
        make_customer(**static)
    assert view(make_customer(ip_address="192.0.2.10", **static)).ip_address == "192.0.2.10"


def test_pppoe_customer_on_a_router_without_pool_gets_no_address(
    run, staff, make_customer, view
) -> None:
    run(add_router, staff, _router())
    assert view(make_customer(router="edge-2")).ip_address is None


def test_static_customer_takes_from_the_pool(isp, make_customer, view) -> None:
    customer_id = make_customer(connection_type="static", plan=isp.static_plan)
    assert view(customer_id).ip_address == "10.10.0.2"


def test_hotspot_customers_get_no_address_and_may_not_be_given_one(isp, make_customer, view):
    hotspot = {"connection_type": "hotspot", "plan": isp.hotspot_plan}
    assert view(make_customer(**hotspot)).ip_address is None
    with pytest.raises(InvalidInput, match="hotspot"):
        make_customer(ip_address="10.10.0.3", **hotspot)


def test_deleted_customer_frees_the_address(run, staff, make_customer, view) -> None:
    first = make_customer()
    run(delete_customer, first, staff)
    assert view(make_customer()).ip_address == "10.10.0.2"


def test_editing_the_address_keeps_it_unique(run, staff, services, make_customer, view) -> None:
    first, second = make_customer(), make_customer()
    with pytest.raises(AddressUnavailable, match="already given"):
        run(edit_customer, second, staff, CustomerChanges(ip_address=view(first).ip_address))
    run(edit_customer, second, staff, CustomerChanges(ip_address="10.10.0.6"))
    assert view(second).ip_address == "10.10.0.6"
    with services.unit_of_work() as uow:
        addresses = list(uow.session.scalars(select(Customer.ip_address)))
    assert sorted(addresses) == ["10.10.0.2", "10.10.0.6"]
