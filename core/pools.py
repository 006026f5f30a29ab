"""Address pools as staff look at them: how full each is, and its free addresses by pool id."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from sqlalchemy import func, select

from core.actors import Actor
from core.addresses import free_in_block, gateway_address
from core.errors import PoolNotFound
from core.models import IpPool, Plan, PlanPool, Router
from core.unit_of_work import UnitOfWork
from core.usecases.network import FreeAddresses, list_free_addresses


@dataclass(frozen=True)
class PoolLine:
    """One pool: its id, router and block, how many customer addresses it has in use and free,
    and the plans that give addresses only from pools they name, this one among them."""

    id: int
    router: str
    cidr: str
    used: int
    free: int
    plans: list[str]

    @property
    def label(self) -> str:
        return f"{self.router} · {self.cidr}"


def pool_lines(uow: UnitOfWork, router_name: str | None = None) -> list[PoolLine]:
    """Every pool (of one router, if named), by router then in the order they were added."""
    query = select(IpPool, Router.name).join(Router).order_by(Router.name, IpPool.id)
    if router_name is not None:
        query = query.where(func.lower(Router.name) == router_name.strip().lower())
    plans: dict[int, list[str]] = {}
    for pool_id, plan in uow.session.execute(
        select(PlanPool.pool_id, Plan.name).join(Plan).order_by(Plan.name)
    ):
        plans.setdefault(pool_id, []).append(plan)
    lines = []
    for pool, router in uow.session.execute(query).tuples():
        network = ipaddress.IPv4Network(pool.cidr)
        # limit=0 walks nothing: only the count is wanted.
        free = free_in_block(uow, pool.router_id, network, network, limit=0).free_count
        reserved = {network.network_address, network.broadcast_address, gateway_address(network)}
        usable = network.num_addresses - len(reserved)
        lines.append(
            PoolLine(
                pool.id, router, pool.cidr, max(usable - free, 0), free, plans.get(pool.id, [])
            )
        )
    return lines


def free_addresses_of_pool(
    uow: UnitOfWork, actor: Actor, pool_id: int, *, prefix: str | None = None, limit: int = 20
) -> FreeAddresses:
    """``list_free_addresses`` for the pool with ``pool_id`` (PoolNotFound if there is none)."""
    pool = uow.session.get(IpPool, pool_id)
    if pool is None:
        raise PoolNotFound(f"no pool with id {pool_id}")
    return list_free_addresses(
        uow, actor, f"{pool.router.name}:{pool.cidr}", prefix=prefix, limit=limit
    )
