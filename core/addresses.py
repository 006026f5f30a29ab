"""IP addresses from a router's pools: picked automatically or chosen, never given twice."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import select

from core.errors import AddressUnavailable, InvalidInput
from core.models import Customer, IpPool, PlanPool, Router
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


def pools_of(
    uow: UnitOfWork, router: Router, plan_id: int | None = None
) -> list[ipaddress.IPv4Network]:
    """The router's pools, in the order they were added; only those the plan names, if it
    names any (a plan naming pools on other routers only leaves none here)."""
    query = select(IpPool.cidr).where(IpPool.router_id == router.id).order_by(IpPool.id)
    if plan_id is not None and plan_names_pools(uow, plan_id):
        query = query.where(
            IpPool.id.in_(select(PlanPool.pool_id).where(PlanPool.plan_id == plan_id))
        )
    return [ipaddress.IPv4Network(cidr) for cidr in uow.session.scalars(query)]


def plan_names_pools(uow: UnitOfWork, plan_id: int) -> bool:
    """Whether the plan restricts its customers to pools of its own."""
    found = uow.session.scalar(select(PlanPool.pool_id).where(PlanPool.plan_id == plan_id).limit(1))
    return found is not None


def choose_address(
    uow: UnitOfWork,
    router: Router,
    requested: str | None,
    *,
    required: bool,
    customer_id: int | None = None,
    plan_id: int | None = None,
) -> str | None:
    """The address a customer on ``router`` gets.

    A requested address must be free (and inside a pool when the router has pools). Without one, the
    first free address of the router's pools is taken; with no pools, None unless ``required``.
    When the plan names pools, only those count, and one must be on ``router``.
    """
    in_use = addresses_in_use(uow, router.id, except_customer_id=customer_id)
    by_plan = plan_id is not None and plan_names_pools(uow, plan_id)
    pools = pools_of(uow, router, plan_id if by_plan else None)
    if by_plan and not pools:
        raise AddressUnavailable(f"none of the plan's pools is on {router.name}")
    if requested is not None:
        address = parse_address(requested)
        if address in in_use:
            raise AddressUnavailable(f"{address} is already given to another customer")
        wanted = ipaddress.IPv4Address(address)
        if pools and not any(wanted in pool for pool in pools):
            raise AddressUnavailable(f"{address} is outside {_pools_words(router, by_plan)}")
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


def _pools_words(router: Router, by_plan: bool) -> str:
    return f"the plan's pools on {router.name}" if by_plan else f"{router.name}'s pools"


def parse_prefix(text: str) -> ipaddress.IPv4Network:
    """A block to search: ``10.0.3`` means 10.0.3.0/24, ``10.0`` 10.0.0.0/16; a CIDR as it is."""
    cleaned = text.strip().rstrip(".")
    try:
        if "/" in cleaned:
            network = ipaddress.ip_network(cleaned, strict=False)
        else:
            octets = cleaned.split(".")
            if not 1 <= len(octets) <= 4 or not all(o.isascii() and o.isdigit() for o in octets):
                raise ValueError
            padded = octets + ["0"] * (4 - len(octets))
            network = ipaddress.ip_network(f"{'.'.join(padded)}/{8 * len(octets)}", strict=False)
    except ValueError:
        raise InvalidInput(f"{text.strip()!r} is not a prefix like 10.0.3 or 10.0.3.0/24") from None
    if not isinstance(network, ipaddress.IPv4Network):
        raise InvalidInput("only IPv4 prefixes are supported")
    return network


@dataclass(frozen=True)
class FreeWalk:
    """Free customer addresses of a block: the first ``limit`` of them, whether more follow, and
    how many the block has in all."""

    addresses: list[str]
    more: bool
    free_count: int


def free_in_block(
    uow: UnitOfWork,
    router_id: int,
    pool: ipaddress.IPv4Network,
    block: ipaddress.IPv4Network,
    *,
    limit: int,
    after: ipaddress.IPv4Address | None = None,
) -> FreeWalk:
    """Walk ``block`` (inside ``pool``) lazily for addresses no customer on the router has.

    The used addresses are read once, narrowed in SQL to the block's dotted prefix (``10.0.``
    for a /16 or /18), so a /16 pool costs one query and a walk that stops at ``limit``.
    """
    reserved = {
        int(pool.network_address),
        int(pool.broadcast_address),
        int(gateway_address(pool)),
    }
    used = _used_in_block(uow, router_id, block) - reserved
    first, last = int(block.network_address), int(block.broadcast_address)
    blocked = sum(1 for value in reserved if first <= value <= last)
    free_count = block.num_addresses - blocked - len(used)
    start = first if after is None else max(first, int(after) + 1)
    found: list[str] = []
    for value in range(start, last + 1):
        if value in reserved or value in used:
            continue
        if len(found) == limit:
            return FreeWalk(found, True, free_count)
        found.append(str(ipaddress.IPv4Address(value)))
    return FreeWalk(found, False, free_count)


def _used_in_block(uow: UnitOfWork, router_id: int, block: ipaddress.IPv4Network) -> set[int]:
    query = select(Customer.ip_address).where(
        Customer.router_id == router_id, Customer.ip_address.is_not(None)
    )
    whole_octets = block.prefixlen // 8
    if whole_octets:
        dotted = ".".join(str(block.network_address).split(".")[:whole_octets]) + "."
        query = query.where(Customer.ip_address.startswith(dotted, autoescape=True))
    used: set[int] = set()
    for text in uow.session.scalars(query):
        if not text:
            continue
        address = ipaddress.IPv4Address(text)
        if address in block:
            used.add(int(address))
    return used
