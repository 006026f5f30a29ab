"""IP addresses from a router's pools: picked automatically or chosen, never given twice."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator

from sqlalchemy import select

from core.errors import AddressUnavailable, InvalidInput
from core.models import Customer, IpPool, Router
from core.unit_of_work import UnitOfWork


def parse_cidr(text: str) -> ipaddress.IPv4Network:
    """An IPv4 network like ``10.10.0.0/24``, or InvalidInput."""
    try:
        network = ipaddress.ip_network(text.strip(), strict=True)
    except ValueError as exc:
        raise InvalidInput(f"{text!r} is not a network like 10.10.0.0/24 ({exc})") from None
    if not isinstance(network, ipaddress.IPv4Network):
        raise InvalidInput("only IPv4 pools are supported")
    if network.num_addresses < 4:
        raise InvalidInput("a pool needs at least a /30")
    return network


def parse_address(text: str) -> str:
    """An IPv4 address in canonical form, or InvalidInput."""
    try:
        address = ipaddress.ip_address(text.strip())
    except ValueError:
        raise InvalidInput(f"{text!r} is not an IP address") from None
    if not isinstance(address, ipaddress.IPv4Address):
        raise InvalidInput("only IPv4 addresses are supported")
    return str(address)


def addresses_in_use(
    uow: UnitOfWork, router_id: int, except_customer_id: int | None = None
) -> set[str]:
    query = select(Customer.ip_address).where(
        Customer.router_id == router_id, Customer.ip_address.is_not(None)
    )
    if except_customer_id is not None:
        query = query.where(Customer.id != except_customer_id)
    return {address for address in uow.session.scalars(query) if address}


def pools_of(uow: UnitOfWork, router: Router) -> list[ipaddress.IPv4Network]:
    cidrs = uow.session.scalars(
        select(IpPool.cidr).where(IpPool.router_id == router.id).order_by(IpPool.id)
    )
    return [ipaddress.IPv4Network(cidr) for cidr in cidrs]


def choose_address(
    uow: UnitOfWork,
    router: Router,
    requested: str | None,
    *,
    required: bool,
    customer_id: int | None = None,
) -> str | None:
    """The address a customer on ``router`` gets.

    A requested address must be free (and inside a pool when the router has pools). Without one, the
    first free address of the router's pools is taken; with no pools, None unless ``required``.
    """
    in_use = addresses_in_use(uow, router.id, except_customer_id=customer_id)
    pools = pools_of(uow, router)
    if requested is not None:
        address = parse_address(requested)
        if address in in_use:
            raise AddressUnavailable(f"{address} is already given to another customer")
        wanted = ipaddress.IPv4Address(address)
        if pools and not any(wanted in pool for pool in pools):
            raise AddressUnavailable(f"{address} is outside {router.name}'s pools")
        if any(wanted == gateway_address(pool) for pool in pools):
            raise AddressUnavailable(f"{address} is the router's own address in its pool")
        if any(wanted in (pool.network_address, pool.broadcast_address) for pool in pools):
            raise AddressUnavailable(f"{address} is the network or broadcast address of its pool")
        return address
    if not pools:
        if required:
            raise AddressUnavailable(
                f"IP address is required: {router.name} has no pool to pick one from"
            )
        return None
    for pool in pools:
        # The first usable address of a pool is the router's own (gateway / PPP local-address).
        for host in list(_customer_hosts(pool)):
            if str(host) not in in_use:
                return str(host)
    raise AddressUnavailable(f"no free address in pool of {router.name}")


def gateway_address(pool: ipaddress.IPv4Network) -> ipaddress.IPv4Address:
    """The pool's first usable address, left for the router itself."""
    return pool.network_address + 1


def _customer_hosts(pool: ipaddress.IPv4Network) -> Iterator[ipaddress.IPv4Address]:
    gateway = gateway_address(pool)
    return (host for host in pool.hosts() if host != gateway)
