"""Routers and their address pools."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from sqlalchemy import delete, func, select

from core import audit
from core.actors import Actor, Permission, require
from core.addresses import free_in_block, parse_address, parse_cidr, parse_prefix, pools_of
from core.certificates import normalize_fingerprint
from core.errors import Conflict, InvalidInput, PoolNotFound, RouterNotFound
from core.models import IpPool, PlanPool, Router
from core.unit_of_work import UnitOfWork
from core.usecases.plans import get_plan_by_name
from core.vocabulary import ConnectionType

MAX_FREE_LISTED = 1000


PLAIN_API_WARNING = "PLAIN API: password sent in clear"
TLS_UNVERIFIED_WARNING = "TLS NOT VERIFIED"
# The router's status when its certificate is not the pinned one (or fails the CA).
CERTIFICATE_MISMATCH = "cert-mismatch"
_HOW_TO_REACH = (
    "say how to reach the router's API: a pinned certificate (--tls-fingerprint, see "
    "`mteja router fingerprint`), a CA (--tls-ca), or --plain-api (the password crosses in clear)"
)


@dataclass(frozen=True)
class RouterSpec:
    """A new router. Its API is reached over TLS verified by ``tls_fingerprint`` (SHA-256 of
    its certificate) or ``tls_ca`` (a PEM file its certificate chains to), or, only when
    ``plain_api`` says so, over the plain API. ``use_tls`` is implied by either TLS setting."""

    name: str
    host: str
    api_port: int
    username: str
    password: str
    use_tls: bool = False
    plain_api: bool = False
    tls_fingerprint: str | None = None
    tls_ca: str | None = None


@dataclass(frozen=True)
class RouterLogin:
    """What a driver needs to reach a router, with the password decrypted."""

    router_id: int
    name: str
    host: str
    api_port: int
    username: str
    password: str
    use_tls: bool
    tls_fingerprint: str | None = None
    tls_ca: str | None = None

    def __repr__(self) -> str:
        # Never print the password (tracebacks and logs show reprs).
        return f"RouterLogin(router_id={self.router_id}, name={self.name!r}, host={self.host!r})"


def _transport(
    *, plain_api: bool, use_tls: bool, fingerprint: str | None, ca: str | None
) -> tuple[bool, str | None, str | None]:
    """(use_tls, fingerprint, ca) for a new choice of how to reach the API; InvalidInput when
    the choice is contradictory or unverified TLS."""
    fingerprint = _fingerprint(fingerprint) if fingerprint is not None else None
    ca = ca.strip() if ca is not None else None
    if ca == "":
        raise InvalidInput("the CA file cannot be empty")
    if fingerprint and ca:
        raise InvalidInput("give a TLS fingerprint or a CA, not both")
    if plain_api and (fingerprint or ca or use_tls):
        raise InvalidInput("--plain-api is the API without TLS: give it alone")
    if plain_api:
        return False, None, None
    if not (fingerprint or ca):
        raise InvalidInput(_HOW_TO_REACH)
    return True, fingerprint, ca


def _fingerprint(text: str) -> str:
    try:
        return normalize_fingerprint(text)
    except ValueError as error:
        raise InvalidInput(str(error)) from error


def transport_warning(router: Router) -> str | None:
    """What staff must be told about how mteja reaches the router, or None when it is TLS with
    a pinned certificate or a CA."""
    if not router.use_tls:
        return PLAIN_API_WARNING
    if not (router.tls_fingerprint or router.tls_ca):
        return TLS_UNVERIFIED_WARNING
    return None


def add_router(uow: UnitOfWork, actor: Actor, spec: RouterSpec) -> Router:
    """Register a router; its API password is stored encrypted."""
    require(actor, Permission.MANAGE_NETWORK)
    name = spec.name.strip()
    if not name or not spec.host.strip() or not spec.username.strip():
        raise InvalidInput("a router needs a name, a host and a username")
    if len(name) > 64 or len(spec.host.strip()) > 255 or len(spec.username.strip()) > 64:
        raise InvalidInput("a router's name and username have at most 64 characters")
    if not 1 <= spec.api_port <= 65535:
        raise InvalidInput(f"port must be 1 to 65535, not {spec.api_port}")
    existing = uow.session.scalars(
        select(Router).where(func.lower(Router.name) == name.lower())
    ).first()
    if existing is not None:
        # A removed router keeps its name: its history (syncs, audit) still says it.
        gone = " (removed; its history keeps the name)" if existing.removed_at else ""
        raise Conflict(f"a router named {name!r} already exists{gone}")
    use_tls, fingerprint, ca = _transport(
        plain_api=spec.plain_api,
        use_tls=spec.use_tls,
        fingerprint=spec.tls_fingerprint,
        ca=spec.tls_ca,
    )
    router = Router(
        name=name,
        host=spec.host.strip(),
        api_port=spec.api_port,
        username=spec.username.strip(),
        password_encrypted=uow.cipher.encrypt(spec.password),
        use_tls=use_tls,
        tls_fingerprint=fingerprint,
        tls_ca=ca,
        status="unknown",
        created_at=uow.clock.now(),
    )
    uow.session.add(router)
    uow.session.flush()
    audit.record(
        uow,
        actor,
        "router.create",
        entity_type="router",
        entity_id=router.id,
        after=router_snapshot(router),
    )
    return router


@dataclass(frozen=True)
class RouterChange:
    """What to change on a router; None leaves a field as it is. ``plain_api``,
    ``tls_fingerprint`` or ``tls_ca`` (one of them) replace how the API is reached."""

    host: str | None = None
    api_port: int | None = None
    username: str | None = None
    password: str | None = None
    plain_api: bool | None = None
    tls_fingerprint: str | None = None
    tls_ca: str | None = None

    def changes_transport(self) -> bool:
        return bool(self.plain_api) or self.tls_fingerprint is not None or self.tls_ca is not None

    def is_empty(self) -> bool:
        return all(value is None for value in vars(self).values())


def edit_router(uow: UnitOfWork, actor: Actor, name: str, change: RouterChange) -> Router:
    """Change a router's address, port, API login or TLS (a new address, a rotated API
    password). Its status goes back to unknown until the next check reaches it there."""
    require(actor, Permission.MANAGE_NETWORK)
    if change.is_empty():
        raise InvalidInput(
            "nothing to change: give a new host, port, username, password, "
            "--tls-fingerprint, --tls-ca or --plain-api"
        )
    router = get_router_by_name(uow, name)
    if change.host is not None and not change.host.strip():
        raise InvalidInput("the host cannot be empty")
    if change.username is not None and not change.username.strip():
        raise InvalidInput("the username cannot be empty")
    if change.api_port is not None and not 1 <= change.api_port <= 65535:
        raise InvalidInput(f"port must be 1 to 65535, not {change.api_port}")
    before = router_snapshot(router)
    if change.host is not None:
        router.host = change.host.strip()
    if change.api_port is not None:
        router.api_port = change.api_port
    if change.username is not None:
        router.username = change.username.strip()
    if change.password is not None:
        router.password_encrypted = uow.cipher.encrypt(change.password)
    if change.changes_transport():
        router.use_tls, router.tls_fingerprint, router.tls_ca = _transport(
            plain_api=bool(change.plain_api),
            use_tls=False,
            fingerprint=change.tls_fingerprint,
            ca=change.tls_ca,
        )
    router.status = "unknown"
    router.last_error = None
    after = router_snapshot(router)
    # The password itself never goes into the audit log; that it changed does.
    after["password_changed"] = change.password is not None
    audit.record(
        uow,
        actor,
        "router.edit",
        entity_type="router",
        entity_id=router.id,
        before=before,
        after=after,
    )
    return router


def router_snapshot(router: Router) -> dict[str, object]:
    return {
        "name": router.name,
        "host": router.host,
        "api_port": router.api_port,
        "username": router.username,
        "tls": router.use_tls,
        "tls_fingerprint": router.tls_fingerprint,
        "tls_ca": router.tls_ca,
    }


def get_router_by_name(uow: UnitOfWork, name: str) -> Router:
    """The router named ``name`` (any case); removed routers are not found."""
    router = uow.session.scalars(
        select(Router).where(
            func.lower(Router.name) == name.strip().lower(), Router.removed_at.is_(None)
        )
    ).first()
    if router is None:
        raise RouterNotFound(f"router not found: {name!r}")
    return router


def list_routers(uow: UnitOfWork) -> list[Router]:
    """Routers in use (not removed), by name."""
    return list(
        uow.session.scalars(select(Router).where(Router.removed_at.is_(None)).order_by(Router.name))
    )


def router_login(uow: UnitOfWork, router_id: int) -> RouterLogin:
    """The router's address and decrypted credentials, for the driver."""
    router = uow.session.get(Router, router_id)
    if router is None:
        raise RouterNotFound(f"no router with id {router_id}")
    return RouterLogin(
        router_id=router.id,
        name=router.name,
        host=router.host,
        api_port=router.api_port,
        username=router.username,
        password=uow.cipher.decrypt(router.password_encrypted),
        use_tls=router.use_tls,
        tls_fingerprint=router.tls_fingerprint,
        tls_ca=router.tls_ca,
    )


def add_pool(uow: UnitOfWork, actor: Actor, router_name: str, cidr: str) -> IpPool:
    """Add a CIDR block to a router's pools; blocks may not overlap on one router."""
    require(actor, Permission.MANAGE_NETWORK)
    router = get_router_by_name(uow, router_name)
    network = parse_cidr(cidr)
    for pool in router.pools:
        if network.overlaps(parse_cidr(pool.cidr)):
            raise Conflict(f"{network} overlaps {pool.cidr} already on {router.name}")
    pool = IpPool(router_id=router.id, cidr=str(network), created_at=uow.clock.now())
    uow.session.add(pool)
    uow.session.flush()
    audit.record(
        uow,
        actor,
        "pool.create",
        entity_type="ip_pool",
        entity_id=pool.id,
        after={"router": router.name, "cidr": pool.cidr},
    )
    return pool


def get_pool(uow: UnitOfWork, reference: str) -> IpPool:
    """The pool ``reference`` names: its CIDR (``10.0.0.0/16``), or ``ROUTER:CIDR`` when routers
    share the block."""
    router_name, _, cidr = reference.strip().rpartition(":")
    if "/" not in cidr:
        raise InvalidInput(f"{cidr!r} is not a network: name a pool like 10.10.0.0/24")
    network = str(parse_cidr(cidr))
    query = select(IpPool).join(Router).where(IpPool.cidr == network).order_by(Router.name)
    if router_name:
        query = query.where(func.lower(Router.name) == router_name.strip().lower())
    pools = list(uow.session.scalars(query))
    if not pools:
        where = f" on {router_name.strip()}" if router_name else ""
        raise PoolNotFound(f"no pool {network}{where}")
    if len(pools) > 1:
        names = ", ".join(f"{pool.router.name}:{network}" for pool in pools)
        raise InvalidInput(f"{network} is a pool of several routers: say which ({names})")
    return pools[0]


@dataclass(frozen=True)
class FreeAddresses:
    """A page of free addresses of a pool: the router, the pool, the block searched, how many
    of it are free, the addresses, and whether more follow the last one."""

    router: str
    pool: str
    block: str
    free_count: int
    addresses: list[str]
    more: bool


def list_free_addresses(
    uow: UnitOfWork,
    actor: Actor,
    pool_reference: str,
    *,
    prefix: str | None = None,
    limit: int = 20,
    after: str | None = None,
) -> FreeAddresses:
    """Free customer addresses of a pool, lowest first, optionally within ``prefix`` (``10.0.3``
    is 10.0.3.0/24) and after ``after`` (the next page). The router's own address, the network
    and the broadcast address are never offered."""
    require(actor, Permission.VIEW)
    if not 1 <= limit <= MAX_FREE_LISTED:
        raise InvalidInput(f"the limit must be 1 to {MAX_FREE_LISTED}, not {limit}")
    pool = get_pool(uow, pool_reference)
    network = ipaddress.IPv4Network(pool.cidr)
    block = network
    if prefix is not None and prefix.strip():
        wanted = parse_prefix(prefix)
        if wanted.subnet_of(network):
            block = wanted
        elif not network.subnet_of(wanted):
            raise InvalidInput(f"{prefix.strip()} is outside the pool {pool.cidr}")
    start = ipaddress.IPv4Address(parse_address(after)) if after else None
    walk = free_in_block(uow, pool.router_id, network, block, limit=limit, after=start)
    return FreeAddresses(
        pool.router.name, pool.cidr, str(block), walk.free_count, walk.addresses, walk.more
    )


def set_plan_pools(
    uow: UnitOfWork, actor: Actor, plan_name: str, pool_references: list[str]
) -> list[IpPool]:
    """Give the plan's customers addresses only from these pools (none: any pool of their
    router). Hotspot plans take no pools: the hotspot gives those addresses."""
    require(actor, Permission.MANAGE_NETWORK)
    plan = get_plan_by_name(uow, plan_name)
    if pool_references and plan.connection_type == ConnectionType.HOTSPOT:
        raise InvalidInput("hotspot customers get their address from the hotspot, not a pool")
    pools = [get_pool(uow, reference) for reference in pool_references]
    before = plan_pool_labels(uow, plan.id)
    uow.session.execute(delete(PlanPool).where(PlanPool.plan_id == plan.id))
    for pool_id in dict.fromkeys(pool.id for pool in pools):
        uow.session.add(PlanPool(plan_id=plan.id, pool_id=pool_id))
    uow.session.flush()
    audit.record(
        uow,
        actor,
        "plan.pools",
        entity_type="plan",
        entity_id=plan.id,
        before={"pools": before},
        after={"pools": plan_pool_labels(uow, plan.id)},
        reason=plan.name,
    )
    return pools


def plan_pool_labels(uow: UnitOfWork, plan_id: int) -> list[str]:
    """The pools a plan names, as ``ROUTER:CIDR``, in the order they were added."""
    rows = uow.session.execute(
        select(Router.name, IpPool.cidr)
        .join(IpPool, IpPool.router_id == Router.id)
        .join(PlanPool, PlanPool.pool_id == IpPool.id)
        .where(PlanPool.plan_id == plan_id)
        .order_by(IpPool.id)
    )
    return [f"{router}:{cidr}" for router, cidr in rows]


def addresses_to_offer(
    uow: UnitOfWork,
    actor: Actor,
    router_name: str,
    plan_name: str,
    *,
    prefix: str | None = None,
    limit: int = 6,
) -> list[str]:
    """The first free addresses a new customer of ``plan_name`` on ``router_name`` may take:
    from the plan's pools there if it names any, else from the router's; within ``prefix``."""
    require(actor, Permission.VIEW)
    router = get_router_by_name(uow, router_name)
    plan = get_plan_by_name(uow, plan_name)
    wanted = parse_prefix(prefix) if prefix and prefix.strip() else None
    offered: list[str] = []
    searched = False
    for network in pools_of(uow, router, plan.id):
        block = network
        if wanted is not None:
            if wanted.subnet_of(network):
                block = wanted
            elif not network.subnet_of(wanted):
                continue
        searched = True
        walk = free_in_block(uow, router.id, network, block, limit=limit - len(offered))
        offered += walk.addresses
        if len(offered) >= limit:
            break
    if wanted is not None and not searched:
        raise InvalidInput(f"{prefix} is in none of the pools offered on {router.name}")
    return offered
