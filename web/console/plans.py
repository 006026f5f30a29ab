"""Plans: the list, and for staff who manage the network adding a plan, retiring or bringing one
back, and choosing the pools its customers get addresses from."""

from __future__ import annotations

from starlette.responses import Response
from starlette.routing import Route

from core.actors import Permission
from core.errors import DomainError, InvalidInput, PermissionDenied
from core.ledger import parse_fee
from core.pools import pool_lines
from core.usecases.network import plan_pool_labels, set_plan_pools
from core.usecases.plans import (
    PlanSpec,
    add_plan,
    get_plan_by_name,
    list_plans,
    set_plan_active,
)
from core.vocabulary import ConnectionType
from web.console.framework import Console, View, as_sentence

PLANS = "/staff/plans"
SPEC_FIELDS = (
    "name",
    "connection_type",
    "price_kes",
    "download",
    "upload",
    "validity_days",
    "validity_hours",
    "data_cap_mb",
    "throttle",
)


def plans_page(view: View) -> Response:
    """Every plan, retired ones last."""
    return _render(view, {name: "" for name in SPEC_FIELDS}, None, 200)


def _render(view: View, typed: dict[str, str], problem: str | None, status: int) -> Response:
    with view.uow(read_only=True) as uow:
        plans = list_plans(uow, include_inactive=True)
        plans.sort(key=lambda plan: not plan.active)
        pools = {plan.id: plan_pool_labels(uow, plan.id) for plan in plans}
        every_pool = [f"{line.router}:{line.cidr}" for line in pool_lines(uow)]
        return view.render(
            "plans.html",
            status_code=status,
            plans=plans,
            pools=pools,
            every_pool=every_pool,
            typed=typed,
            problem=problem,
            types=[kind.value for kind in ConnectionType],
        )


def add_plan_action(view: View) -> Response:
    """A new plan from the form; a refused one shows the form again with the message."""
    typed = {name: view.field(name).strip() for name in SPEC_FIELDS}
    try:
        with view.uow() as uow:
            plan = add_plan(uow, view.actor, _spec(typed))
            uow.commit()
            name = plan.name
    except PermissionDenied:
        raise
    except DomainError as problem:
        return _render(view, typed, as_sentence(problem.message), 400)
    return view.redirect(PLANS, flash=f"Plan {name} added.")


def _spec(typed: dict[str, str]) -> PlanSpec:
    return PlanSpec(
        name=typed["name"],
        connection_type=typed["connection_type"],
        price_kes=parse_fee(typed["price_kes"], "the price"),
        download=typed["download"],
        upload=typed["upload"],
        validity_days=_whole(typed["validity_days"], "validity in days"),
        validity_hours=_whole(typed["validity_hours"], "validity in hours"),
        data_cap_mb=_whole(typed["data_cap_mb"], "the data cap"),
        throttle=typed["throttle"] or None,
    )


def _whole(text: str, what: str) -> int | None:
    """A typed whole number, or None when left empty."""
    if not text:
        return None
    if not (text.isascii() and text.isdigit()) or len(text) > 9:
        raise InvalidInput(f"{what} must be a whole number, not {text!r}")
    return int(text)


def plan_active_action(view: View) -> Response:
    """Retire a plan or put it back on sale."""
    active = view.field("active")
    if active not in ("yes", "no"):
        raise InvalidInput("say whether the plan is on sale: yes or no")
    with view.uow() as uow:
        plan = set_plan_active(uow, view.actor, view.field("plan"), active == "yes")
        uow.commit()
        name = plan.name
    done = "is on sale again" if active == "yes" else "is retired (its customers keep it)"
    return view.redirect(PLANS, flash=f"Plan {name} {done}.")


def plan_pools_action(view: View) -> Response:
    """The pools a plan gives addresses from (none ticked: any pool of the router)."""
    assert view.form is not None
    chosen = [value for value in view.form.getlist("pools") if isinstance(value, str)]
    with view.uow() as uow:
        set_plan_pools(uow, view.actor, view.field("plan"), chosen)
        uow.commit()
        plan = get_plan_by_name(uow, view.field("plan"))
        labels = plan_pool_labels(uow, plan.id)
        name = plan.name
    where = ", ".join(labels) if labels else "any pool of the customer's router"
    return view.redirect(PLANS, flash=f"Plan {name} gives addresses from {where}.")


def plans_routes(console: Console) -> list[Route]:
    return [
        Route("/plans", console.page(plans_page), methods=["GET"]),
        Route(
            "/plans", console.action(add_plan_action, Permission.MANAGE_NETWORK), methods=["POST"]
        ),
        Route(
            "/plans/active",
            console.action(plan_active_action, Permission.MANAGE_NETWORK),
            methods=["POST"],
        ),
        Route(
            "/plans/pools",
            console.action(plan_pools_action, Permission.MANAGE_NETWORK),
            methods=["POST"],
        ),
    ]
