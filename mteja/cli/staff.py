"""``mteja staff …``: who may use the staff bot, and with which role."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from core.display import local_time
from core.usecases.staff import add_staff, list_staff
from mteja.cli.shared import ACTOR, opened_system, out

staff_app = typer.Typer(help="Staff allowed to use the bot.", no_args_is_help=True)


@staff_app.command("add")
def staff_add(
    telegram_user_id: int,
    name: str,
    role: Annotated[str, typer.Option(help="owner, admin, agent or viewer")],
) -> None:
    """Allow a Telegram user to use the bot with a role."""
    with opened_system() as system, system.services.unit_of_work() as uow:
        member = add_staff(uow, ACTOR, telegram_user_id, name, role)
        uow.commit()
        out.print(f"{member.name} ({member.telegram_user_id}) is now {member.role}")


@staff_app.command("list")
def staff_list() -> None:
    """List staff and their roles."""
    with opened_system() as system, system.services.unit_of_work() as uow:
        table = Table("telegram id", "name", "role", "since")
        for member in list_staff(uow):
            table.add_row(
                str(member.telegram_user_id),
                member.name,
                member.role,
                local_time(member.created_at, system.settings.zone),
            )
        out.print(table)
