"""Taking a router out of service: its customers moved to another router, its pools removed."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, func, select

from core import audit
from core.actors import Actor, Permission, require
from core.errors import Conflict, InvalidInput
from core.models import Customer, Plan, PlanPool, Router
from core.unit_of_work import UnitOfWork
from core.usecases.customers import CustomerChanges, edit_customer
from core.usecases.network import get_router_by_name, router_snapshot


@dataclass(frozen=True)
class RouterRemoval:
    """A removed router: its id (for cleaning it out), name, the customers moved off it and
    where to, and the pools removed with it."""

    router_id: int
    name: str
    moved: int
    moved_to: str | None
    pools: list[str]


def remove_router(
    uow: UnitOfWork, actor: Actor, name: str, move_to: str | None = None
) -> RouterRemoval:
    """Take a router out of service. Refused while customers are on it, unless ``move_to``
    names the router they move to (each moved as an edit would, marked for sync there, and
    taken off this one). Its pools go; the router row stays (soft removal: its syncs, audit
    entries and former customers still name it) and is never listed or contacted again."""
    require(actor, Permission.MANAGE_NETWORK)
    router = get_router_by_name(uow, name)
    customers = list(
        uow.session.scalars(
            select(Customer)
            .where(Customer.router_id == router.id, Customer.deleted_at.is_(None))
            .order_by(Customer.id)
        )
    )
    target = None
    if move_to is not None:
        target = get_router_by_name(uow, move_to)
        if target.id == router.id:
            raise InvalidInput("move the customers to another router, not the one removed")
    if customers and target is None:
        raise Conflict(
            f"{len(customers)} customer(s) are still on {router.name}: "
            "move them with --move-to OTHER, or delete them first"
        )
    pool_ids = [pool.id for pool in router.pools]
    _refuse_plans_left_without_pools(uow, router, pool_ids)
    if target is not None:
        for customer in customers:
            # Exactly an edit: a new address from the target's pools, the login synced there
            # and removed from here, audited per customer.
            edit_customer(uow, customer.id, actor, CustomerChanges(router=target.name))
    labels = [pool.cidr for pool in router.pools]
    if pool_ids:
        uow.session.execute(delete(PlanPool).where(PlanPool.pool_id.in_(pool_ids)))
    router.pools.clear()
    router.removed_at = uow.clock.now()
    router.status = "removed"
    uow.session.flush()
    audit.record(
        uow,
        actor,
        "router.remove",
        entity_type="router",
        entity_id=router.id,
        before=router_snapshot(router),
        after={"moved": len(customers), "moved_to": target.name if target else None},
        reason=", ".join(labels) or None,
    )
    return RouterRemoval(
        router.id, router.name, len(customers), target.name if target else None, labels
    )


def _refuse_plans_left_without_pools(uow: UnitOfWork, router: Router, pool_ids: list[int]) -> None:
    """A plan naming only this router's pools would, without them, give addresses from any
    pool: staff choose its pools again first."""
    if not pool_ids:
        return
    plan_ids = set(
        uow.session.scalars(select(PlanPool.plan_id).where(PlanPool.pool_id.in_(pool_ids)))
    )
    for plan_id in sorted(plan_ids):
        elsewhere = uow.session.scalar(
            select(func.count())
            .select_from(PlanPool)
            .where(PlanPool.plan_id == plan_id, PlanPool.pool_id.not_in(pool_ids))
        )
        if not elsewhere:
            plan = uow.session.get(Plan, plan_id)
            assert plan is not None
            raise Conflict(
                f"plan {plan.name} gives addresses only from pools of {router.name}: "
                f"choose its pools first (mteja plan pools {plan.name!r} ...)"
            )
