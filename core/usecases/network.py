"""Routers and their address pools."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from core import audit
from core.actors import Actor, Permission, require
from core.addresses import parse_cidr
from core.errors import Conflict, InvalidInput, RouterNotFound
from core.models import IpPool, Router
from core.unit_of_work import UnitOfWork


@dataclass(frozen=True)
class RouterSpec:
    name: str
    host: str
    api_port: int
    username: str
    password: str
    use_tls: bool = False


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


def add_router(uow: UnitOfWork, actor: Actor, spec: RouterSpec) -> Router:
    """Register a router; its API password is stored encrypted."""
    require(actor, Permission.MANAGE_NETWORK)
    name = spec.name.strip()
    if not name or not spec.host.strip() or not spec.username.strip():
        raise InvalidInput("a router needs a name, a host and a username")
    if not 1 <= spec.api_port <= 65535:
        raise InvalidInput(f"port must be 1 to 65535, not {spec.api_port}")
    if uow.session.scalar(select(Router.id).where(func.lower(Router.name) == name.lower())):
        raise Conflict(f"a router named {name!r} already exists")
    router = Router(
        name=name,
        host=spec.host.strip(),
        api_port=spec.api_port,
        username=spec.username.strip(),
        password_encrypted=uow.cipher.encrypt(spec.password),
        use_tls=spec.use_tls,
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
        after={"name": name, "host": router.host, "api_port": router.api_port, "tls": spec.use_tls},
    )
    return router


@dataclass(frozen=True)
class RouterChange:
    """What to change on a router; None leaves a field as it is."""

    host: str | None = None
    api_port: int | None = None
    username: str | None = None
    password: str | None = None
    use_tls: bool | None = None

    def is_empty(self) -> bool:
        return all(value is None for value in vars(self).values())


def edit_router(uow: UnitOfWork, actor: Actor, name: str, change: RouterChange) -> Router:
    """Change a router's address, port, API login or TLS (a new address, a rotated API
    password). Its status goes back to unknown until the next check reaches it there."""
    require(actor, Permission.MANAGE_NETWORK)
    if change.is_empty():
        raise InvalidInput("nothing to change: give a new host, port, username, password or TLS")
    router = get_router_by_name(uow, name)
    if change.host is not None and not change.host.strip():
        raise InvalidInput("the host cannot be empty")
    if change.username is not None and not change.username.strip():
        raise InvalidInput("the username cannot be empty")
    if change.api_port is not None and not 1 <= change.api_port <= 65535:
        raise InvalidInput(f"port must be 1 to 65535, not {change.api_port}")
    before = _router_snapshot(router)
    if change.host is not None:
        router.host = change.host.strip()
    if change.api_port is not None:
        router.api_port = change.api_port
    if change.username is not None:
        router.username = change.username.strip()
    if change.password is not None:
        router.password_encrypted = uow.cipher.encrypt(change.password)
    if change.use_tls is not None:
        router.use_tls = change.use_tls
    router.status = "unknown"
    router.last_error = None
    after = _router_snapshot(router)
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


def _router_snapshot(router: Router) -> dict[str, object]:
    return {
        "name": router.name,
        "host": router.host,
        "api_port": router.api_port,
        "username": router.username,
        "tls": router.use_tls,
    }


def get_router_by_name(uow: UnitOfWork, name: str) -> Router:
    router = uow.session.scalars(
        select(Router).where(func.lower(Router.name) == name.strip().lower())
    ).first()
    if router is None:
        raise RouterNotFound(f"router not found: {name!r}")
    return router


def list_routers(uow: UnitOfWork) -> list[Router]:
    return list(uow.session.scalars(select(Router).order_by(Router.name)))


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
