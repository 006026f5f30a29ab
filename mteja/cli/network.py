"""``mteja router …`` and ``mteja pool …``: the MikroTik routers and their address pools."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from cryptography import x509
from rich.table import Table

from core.display import local_time
from core.errors import RouterNotFound
from core.models import Router
from core.usecases.network import (
    CERTIFICATE_MISMATCH,
    RouterChange,
    RouterSpec,
    add_pool,
    add_router,
    edit_router,
    get_router_by_name,
    list_free_addresses,
    list_routers,
    plan_pool_labels,
    set_plan_pools,
    transport_warning,
)
from core.usecases.plans import get_plan_by_name
from core.usecases.router_removal import remove_router
from mteja.cli.plans import plan_app
from mteja.cli.shared import ACTOR, err, fail, opened_system, out
from routers.gateway import RouterError
from routers.sync import RouterSync, librouteros_factory
from routers.tls import fetch_certificate

router_app = typer.Typer(help="MikroTik routers.", no_args_is_help=True)
pool_app = typer.Typer(help="Address pools of routers.", no_args_is_help=True)


_FINGERPRINT_HELP = "Pin the router's TLS certificate: its SHA-256 (hex, colons allowed)"
_CA_HELP = "Verify the router's TLS certificate against this CA (PEM file)"
_PLAIN_HELP = "Use the plain API (8728, no TLS): the password crosses the network in clear"


def _ca_file(path: Path | None) -> str | None:
    """The CA file's absolute path, once it is known to hold PEM certificates."""
    if path is None:
        return None
    try:
        certificates = x509.load_pem_x509_certificates(path.read_bytes())
    except OSError as error:
        fail(f"cannot read the CA file {path}: {error.strerror}")
    except ValueError:
        fail(f"{path} holds no PEM certificate")
    if not certificates:
        fail(f"{path} holds no PEM certificate")
    return str(path.resolve())


@router_app.command("add")
def router_add(
    name: str,
    host: Annotated[str, typer.Option(help="Address of the router's API")],
    username: Annotated[str, typer.Option(help="API user")],
    password: Annotated[str, typer.Option(help="API password (stored encrypted)")],
    port: Annotated[int | None, typer.Option(help="API port (8729 with TLS, 8728 plain)")] = None,
    tls_fingerprint: Annotated[str | None, typer.Option(help=_FINGERPRINT_HELP)] = None,
    tls_ca: Annotated[Path | None, typer.Option(help=_CA_HELP)] = None,
    plain_api: Annotated[bool, typer.Option("--plain-api", help=_PLAIN_HELP)] = False,
) -> None:
    """Register a MikroTik router: over TLS with a pinned certificate or a CA, or --plain-api."""
    ca = _ca_file(tls_ca)
    with opened_system() as system, system.services.unit_of_work() as uow:
        api_port = port if port is not None else (8728 if plain_api else 8729)
        spec = RouterSpec(
            name,
            host,
            api_port,
            username,
            password,
            plain_api=plain_api,
            tls_fingerprint=tls_fingerprint,
            tls_ca=ca,
        )
        router = add_router(uow, ACTOR, spec)
        uow.commit()
        out.print(
            f"router {router.name} added ({router.host}:{router.api_port}, {_transport(router)})",
            markup=False,
        )


@router_app.command("edit")
def router_edit(
    name: str,
    host: Annotated[str | None, typer.Option(help="New address of the router's API")] = None,
    port: Annotated[int | None, typer.Option(help="New API port")] = None,
    username: Annotated[str | None, typer.Option(help="New API user")] = None,
    password: Annotated[
        str | None, typer.Option(help="New API password (stored encrypted)")
    ] = None,
    tls_fingerprint: Annotated[str | None, typer.Option(help=_FINGERPRINT_HELP)] = None,
    tls_ca: Annotated[Path | None, typer.Option(help=_CA_HELP)] = None,
    plain_api: Annotated[bool, typer.Option("--plain-api", help=_PLAIN_HELP)] = False,
) -> None:
    """Change a router's address, port, API login or TLS; the next check reaches it there."""
    change = RouterChange(
        host,
        port,
        username,
        password,
        plain_api=plain_api or None,
        tls_fingerprint=tls_fingerprint,
        tls_ca=_ca_file(tls_ca),
    )
    with opened_system() as system, system.services.unit_of_work() as uow:
        router = edit_router(uow, ACTOR, name, change)
        uow.commit()
        out.print(
            f"router {router.name} now {router.host}:{router.api_port} ({_transport(router)})",
            markup=False,
        )


def _transport(router: Router) -> str:
    if router.tls_fingerprint:
        return "tls, certificate pinned"
    if router.tls_ca:
        return "tls, verified by CA"
    return transport_warning(router) or "tls"


@router_app.command("fingerprint")
def router_fingerprint(
    router: Annotated[str, typer.Argument(help="A router's name, or a HOST to be added")],
    port: Annotated[
        int | None, typer.Option(help="api-ssl port (default: the router's, 8729)")
    ] = None,
) -> None:
    """Show the SHA-256 of the certificate a router presents, without logging in (no password
    is sent), for staff to confirm and pin with --tls-fingerprint."""
    with opened_system() as system, system.services.unit_of_work() as uow:
        try:
            known = get_router_by_name(uow, router)
        except RouterNotFound:
            known = None
        host = known.host if known is not None else router.strip()
        pinned = known.tls_fingerprint if known is not None else None
        default_port = known.api_port if known is not None and known.use_tls else 8729
    where = f"{host}:{port or default_port}"
    try:
        seen = fetch_certificate(host, port or default_port)
    except OSError as error:
        fail(f"no TLS certificate from {where}: {error}")
    _say(f"{where} presents:")
    _say(f"  SHA-256  {_colons(seen.fingerprint)}")
    _say(f"  subject  {seen.subject}")
    _say(f"  issuer   {seen.issuer}")
    _say(f"  valid    {seen.not_before:%Y-%m-%d} to {seen.not_after:%Y-%m-%d}")
    if pinned is not None:
        verdict = "matches the pin" if pinned == seen.fingerprint else "DOES NOT match the pin"
        _say(f"  {verdict}")
    else:
        name = known.name if known is not None else "NAME"
        _say(
            f"If this is your router's certificate: mteja router edit {name} "
            f"--tls-fingerprint {seen.fingerprint}"
        )


def _say(text: str) -> None:
    # Literal text: "27:CD:14" must not become an emoji, and a fingerprint is never wrapped.
    out.print(text, markup=False, emoji=False, highlight=False, soft_wrap=True)


def _colons(fingerprint: str) -> str:
    return ":".join(fingerprint[i : i + 2] for i in range(0, len(fingerprint), 2)).upper()


@router_app.command("list")
def router_list() -> None:
    """List routers with their status, when each was last seen and last restarted; how the API
    is reached is flagged when it is unsafe."""
    with opened_system() as system, system.services.unit_of_work() as uow:
        table = Table()
        # Names and addresses are never cut: the other columns give way.
        table.add_column("name", no_wrap=True)
        table.add_column("address", no_wrap=True)
        table.add_column("api", no_wrap=True)
        table.add_column("status", no_wrap=True)
        table.add_column("last seen")
        table.add_column("pools")
        zone = system.settings.zone
        warnings = []  # below the table, which is already as wide as a terminal
        for router in list_routers(uow):
            mismatch = router.status == CERTIFICATE_MISMATCH
            table.add_row(
                router.name,
                f"{router.host}:{router.api_port}",
                _api_column(router),
                "CERT MISMATCH" if mismatch else router.status,
                local_time(router.last_seen_at, zone),
                ", ".join(pool.cidr for pool in router.pools) or "-",
            )
            if router.restarted_at is not None:
                warnings.append(
                    f"{router.name} restarted at {local_time(router.restarted_at, zone)}"
                )
            warning = transport_warning(router)
            if warning:
                warnings.append(f"{router.name}: {warning}")
            if mismatch:
                warnings.append(
                    f"{router.name}: CERTIFICATE MISMATCH, not logged in: {router.last_error}"
                )
        out.print(table)
        for line in warnings:
            out.print(line, markup=False, emoji=False, highlight=False, soft_wrap=True)


def _api_column(router: Router) -> str:
    if not router.use_tls:
        return "PLAIN"
    if router.tls_fingerprint:
        return "tls pinned"
    if router.tls_ca:
        return "tls CA"
    return "TLS UNVERIFIED"


@router_app.command("remove")
def router_remove(
    name: str,
    move_to: Annotated[
        str | None, typer.Option(help="Move the router's customers to this router first")
    ] = None,
    cleanup: Annotated[
        bool,
        typer.Option("--cleanup", help="Also take mteja's entries off the router (best effort)"),
    ] = False,
) -> None:
    """Take a router out of service: refused while customers are on it unless --move-to; its
    pools go with it; its history stays."""
    with opened_system() as system:
        with system.services.unit_of_work() as uow:
            removal = remove_router(uow, ACTOR, name, move_to)
            uow.commit()
        moved = (
            f"; {removal.moved} customer(s) moved to {removal.moved_to}" if removal.moved else ""
        )
        pools = f"; pools removed: {', '.join(removal.pools)}" if removal.pools else ""
        out.print(f"router {removal.name} removed{moved}{pools}", markup=False)
        if not cleanup:
            return
        sync = RouterSync(system.services, librouteros_factory(connect_timeout=5.0))
        try:
            report = sync.clean_out(removal.router_id)
        except RouterError as error:
            err.print(
                f"could not clean {removal.name} ({error}); the removal stands: remove the "
                "entries commented mteja: and the mteja-… profiles by hand",
                markup=False,
            )
            raise typer.Exit(1) from None
        out.print(f"{report.writes} mteja entries taken off {removal.name}", markup=False)


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
