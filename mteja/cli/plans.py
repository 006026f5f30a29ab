"""``mteja plan …``: the plans (packages) customers buy."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from core.display import kes, speed
from core.models import Plan
from core.usecases.plans import PlanSpec, add_plan, list_plans
from mteja.cli.shared import ACTOR, opened_system, out

plan_app = typer.Typer(help="Plans (packages).", no_args_is_help=True)


@plan_app.command("add")
def plan_add(
    name: str,
    connection_type: Annotated[str, typer.Option("--type", help="pppoe, hotspot or static")],
    price: Annotated[int, typer.Option(help="Price in whole KES")],
    download: Annotated[str, typer.Option(help="Download speed, e.g. 10M")],
    upload: Annotated[str, typer.Option(help="Upload speed, e.g. 5M")],
    days: Annotated[int | None, typer.Option(help="Validity in days")] = None,
    hours: Annotated[int | None, typer.Option(help="Validity in hours (hotspot)")] = None,
    cap_mb: Annotated[int | None, typer.Option(help="Data cap in MB")] = None,
    throttle: Annotated[
        str | None,
        typer.Option(
            help="Speed over the data cap until renewal: 1M, or 2M/512k (download/upload); "
            "without it, a customer over the cap is blocked"
        ),
    ] = None,
) -> None:
    """Create a plan."""
    with opened_system() as system, system.services.unit_of_work() as uow:
        spec = PlanSpec(
            name, connection_type, price, download, upload, days, hours, cap_mb, throttle
        )
        plan = add_plan(uow, ACTOR, spec)
        uow.commit()
        out.print(
            f"plan {plan.name} added: {speed(plan.download, plan.upload)}, "
            f"{kes(plan.price_kes)} / {plan.validity_text}",
            markup=False,
        )
        if plan.data_cap_mb is not None:
            out.print(f"data cap {plan.data_cap_mb} MB per period; over it: {_over_cap(plan)}")


def _over_cap(plan: Plan) -> str:
    """What a customer over the plan's data cap gets: ``throttled to 2M down / 1M up``."""
    if plan.throttle_download is None or plan.throttle_upload is None:
        return "blocked"
    return f"throttled to {speed(plan.throttle_download, plan.throttle_upload)}"


@plan_app.command("list")
def plan_list() -> None:
    """List active plans."""
    with opened_system() as system, system.services.unit_of_work() as uow:
        table = Table("name", "type", "price", "speed", "validity", "cap")
        for plan in list_plans(uow):
            cap = f"{plan.data_cap_mb} MB, then {_over_cap(plan)}" if plan.data_cap_mb else "-"
            table.add_row(
                plan.name,
                plan.connection_type,
                kes(plan.price_kes),
                speed(plan.download, plan.upload),
                plan.validity_text,
                cap,
            )
        out.print(table)
