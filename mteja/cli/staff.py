"""``mteja staff …``: who may use the staff bot and the web console, and with which role."""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.table import Table

from core.display import local_time
from core.usecases.staff import add_staff, change_role, find_staff, list_staff, remove_staff
from core.usecases.staff_access import issue_login_link, set_password
from mteja.cli.shared import ACTOR, fail, opened_system, out

staff_app = typer.Typer(
    help="Staff allowed to use the bot and the web console.", no_args_is_help=True
)


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


@staff_app.command("login-link")
def staff_login_link(
    who: Annotated[str, typer.Argument(help="a staff member's Telegram user id or name")],
) -> None:
    """Print a one-time web console login link for a staff member (works once, 15 minutes)."""
    with opened_system() as system, system.services.unit_of_work() as uow:
        link = issue_login_link(uow, ACTOR, who)
        uow.commit()
        url = f"{system.settings.public_url.rstrip('/')}/staff/login/link/{link.token}"
        out.print(url, markup=False)
        out.print(
            f"logs in {link.member_name} once, until "
            f"{local_time(link.expires_at, system.settings.zone)}; do not share it further",
            markup=False,
        )


@staff_app.command("set-password")
def staff_set_password(
    who: Annotated[str, typer.Argument(help="a staff member's Telegram user id or name")],
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="read the password from standard input")
    ] = False,
) -> None:
    """Set a staff member's web console password (asked twice, not shown)."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            fail("no password on standard input")
    else:
        password = typer.prompt("New password", hide_input=True, confirmation_prompt=True)
    with opened_system() as system, system.services.unit_of_work() as uow:
        member = set_password(uow, ACTOR, who, password)
        uow.commit()
        out.print(f"{member.name} can now log in to the web console with that password")


@staff_app.command("remove")
def staff_remove(
    who: Annotated[str, typer.Argument(help="a staff member's Telegram user id or name")],
) -> None:
    """Remove a staff member: the bot and the web console stop answering them (audited)."""
    with opened_system() as system, system.services.unit_of_work() as uow:
        member = remove_staff(uow, ACTOR, find_staff(uow, who).telegram_user_id)
        uow.commit()
        out.print(f"{member.name} removed", markup=False)


@staff_app.command("role")
def staff_role(
    who: Annotated[str, typer.Argument(help="a staff member's Telegram user id or name")],
    role: Annotated[str, typer.Argument(help="owner, admin, agent or viewer")],
) -> None:
    """Change a staff member's role (audited)."""
    with opened_system() as system, system.services.unit_of_work() as uow:
        member = change_role(uow, ACTOR, find_staff(uow, who).telegram_user_id, role)
        uow.commit()
        out.print(f"{member.name} is now {member.role}", markup=False)
