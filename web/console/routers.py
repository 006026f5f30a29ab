"""Routers as core last recorded them (the web never asks a router anything), their address
pools with how full they are, and adding a pool for staff who manage the network."""

from __future__ import annotations

from urllib.parse import quote

from starlette.responses import Response
from starlette.routing import Route

from core.actors import Permission
from core.errors import DomainError, PermissionDenied
from core.pools import pool_lines
from core.reports import router_overview
from core.usecases.network import add_pool, get_router_by_name
from web.console.framework import Console, View, as_sentence


def routers_page(view: View) -> Response:
    """Every router's health and syncs, and every pool."""
    with view.uow(read_only=True) as uow:
        routers = router_overview(uow)
        pools = pool_lines(uow)
    return view.render("routers.html", routers=routers, pools=pools)


def router_page(view: View) -> Response:
    """One router: its address, health, customers and syncs, and its pools."""
    return _router(view, view.request.path_params["name"], "", None, 200)


def _router(view: View, name: str, cidr: str, problem: str | None, status: int) -> Response:
    with view.uow(read_only=True) as uow:
        router = get_router_by_name(uow, name)
        line = next(line for line in router_overview(uow) if line.name == router.name)
        pools = pool_lines(uow, router.name)
        return view.render(
            "router.html",
            status_code=status,
            router=router,
            line=line,
            pools=pools,
            cidr=cidr,
            problem=problem,
        )


def add_pool_action(view: View) -> Response:
    """A new address pool (a CIDR block) on the router."""
    name = view.request.path_params["name"]
    cidr = view.field("cidr").strip()
    try:
        with view.uow() as uow:
            pool = add_pool(uow, view.actor, name, cidr)
            uow.commit()
            added, router = pool.cidr, pool.router.name
    except PermissionDenied:
        raise
    except DomainError as problem:
        return _router(view, name, cidr, as_sentence(problem.message), 400)
    return view.redirect(
        f"/staff/routers/{quote(router, safe='')}", flash=f"Pool {added} added to {router}."
    )


def routers_routes(console: Console) -> list[Route]:
    return [
        Route("/routers", console.page(routers_page), methods=["GET"]),
        Route("/routers/{name}", console.page(router_page), methods=["GET"]),
        Route(
            "/routers/{name}/pools",
            console.action(add_pool_action, Permission.MANAGE_NETWORK),
            methods=["POST"],
        ),
    ]
