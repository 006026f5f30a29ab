"""``mteja router …`` and ``mteja pool …``: the MikroTik routers and their address pools."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from core.display import local_time
from core.usecases.network import (
    RouterChange,
    RouterSpec,
    add_pool,
    add_router,
    edit_router,
    list_free_addresses,
    list_routers,
    plan_pool_labels,
    set_plan_pools,
)
from core.usecases.plans import get_plan_by_name
from mteja.cli.plans import plan_app
from mteja.cli.shared import ACTOR, err, fail, opened_system, out

router_app = typer.Typer(help="MikroTik routers.", no_args_is_help=True)
pool_app = typer.Typer(help="Address pools of routers.", no_args_is_help=True)


@router_app.command("add")
def router_add(
    name: str,
    host: Annotated[str, typer.Option(help="Address of the router's API")],
    username: Annotated[str, typer.Option(help="API user")],
    password: Annotated[str, typer.Option(help="API password (stored encrypted)")],
    port: Annotated[int | None, typer.Option(help="API port (8728, or 8729 with --tls)")] = None,
    tls: Annotated[bool, typer.Option("--tls", help="Use api-ssl")] = False,
) -> None:
    """Register a MikroTik router."""
    with opened_system() as system, system.services.unit_of_work() as uow:
        api_port = port if port is not None else (8729 if tls else 8728)
        router = add_router(uow, ACTOR, RouterSpec(name, host, api_port, username, password, tls))
        uow.commit()
        out.print(f"router {router.name} added ({router.host}:{router.api_port})")


@router_app.command("edit")
def router_edit(
    name: str,
    host: Annotated[str | None, typer.Option(help="New address of the router's API")] = None,
    port: Annotated[int | None, typer.Option(help="New API port")] = None,
    username: Annotated[str | None, typer.Option(help="New API user")] = None,
    password: Annotated[
        str | None, typer.Option(help="New API password (stored encrypted)")
    ] = None,
    tls: Annotated[bool | None, typer.Option("--tls/--no-tls", help="Use api-ssl or not")] = None,
) -> None:
    """Change a router's address, port, API login or TLS; the next check reaches it there."""
    change = RouterChange(host, port, username, password, tls)
    with opened_system() as system, system.services.unit_of_work() as uow:
        router = edit_router(uow, ACTOR, name, change)
        uow.commit()
        tls_text = " (tls)" if router.use_tls else ""
        out.print(f"router {router.name} now {router.host}:{router.api_port}{tls_text}")


@router_app.command("list")
def router_list() -> None:
    """List routers with their status, when each was last seen and last restarted."""
    with opened_system() as system, system.services.unit_of_work() as uow:
        table = Table("name", "host", "port", "tls", "status", "last seen", "pools")
        zone = system.settings.zone
        restarts = []  # below the table, which is already as wide as a terminal
        for router in list_routers(uow):
            table.add_row(
                router.name,
                router.host,
                str(router.api_port),
                "yes" if router.use_tls else "no",
                router.status,
                local_time(router.last_seen_at, zone),
                ", ".join(pool.cidr for pool in router.pools) or "-",
            )
            if router.restarted_at is not None:
                restarts.append(
                    f"{router.name} restarted at {local_time(router.restarted_at, zone)}"
                )
        out.print(table)
        for line in restarts:
            out.print(line, markup=False)


@pool_app.command("add")
def pool_add(router: str, cidr: str) -> None:
    """Add an address pool (CIDR) to a router; its first address is left for the router."""
    with opened_system() as system, system.services.unit_of_work() as uow:
        pool = add_pool(uow, ACTOR, router, cidr)
        uow.commit()
        out.print(f"pool {pool.cidr} added to {router}")


@pool_app.command("free")
def pool_free(
    pool: Annotated[str, typer.Argument(help="The pool's CIDR, or ROUTER:CIDR")],
    prefix: Annotated[
        str | None, typer.Option(help="Search one block: 10.0.3 is 10.0.3.0/24 (or a CIDR)")
    ] = None,
    limit: Annotated[int, typer.Option(help="How many to list (1 to 1000)")] = 20,
    after: Annotated[str | None, typer.Option(help="List from after this address")] = None,
) -> None:
    """Free customer addresses of a pool, lowest first, one a line (the count on stderr)."""
    with opened_system() as system, system.services.unit_of_work() as uow:
        free = list_free_addresses(uow, ACTOR, pool, prefix=prefix, limit=limit, after=after)
    for address in free.addresses:
        out.print(address, markup=False)
    more = f"; more after {free.addresses[-1]} (--after)" if free.more else ""
    # The count goes to stderr, so stdout stays one address a line for scripts.
    err.print(
        f"{free.free_count:,} free in {free.block} ({free.router}:{free.pool}){more}", markup=False
    )


@plan_app.command("pools")
def plan_pools(
    plan: Annotated[str, typer.Argument(help="Plan name")],
    pools: Annotated[
        list[str] | None, typer.Argument(help="Pools (CIDR or ROUTER:CIDR); none: any pool")
    ] = None,
    clear: Annotated[bool, typer.Option("--clear", help="Let the plan use any pool")] = False,
) -> None:
    """Show the pools a plan gives addresses from; with POOLs, set them; --clear: any pool."""
    with opened_system() as system, system.services.unit_of_work() as uow:
        if pools or clear:
            if pools and clear:
                fail("give pools or --clear, not both")
            set_plan_pools(uow, ACTOR, plan, list(pools or []))
            uow.commit()
        shown = get_plan_by_name(uow, plan)
        labels = plan_pool_labels(uow, shown.id)
        out.print(f"{shown.name}: {', '.join(labels) or 'any pool of the router'}", markup=False)
