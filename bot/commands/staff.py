"""``/staff``: the owner adds and removes staff and changes their roles. ``/web``: anyone's
own way into the web console."""

from __future__ import annotations

from bot.answers import Answer
from bot.context import Context, confirmed_action
from bot.parsing import BadArguments, CommandLine, user_id
from core.display import local_time
from core.usecases.staff import add_staff, change_role, list_staff, remove_staff
from core.usecases.staff_access import issue_login_link


def cmd_staff(ctx: Context, line: CommandLine) -> Answer:
    """List staff, or ``add ID NAME ROLE``, ``role ID ROLE``, ``remove ID``."""
    action = (line.optional_word(0) or "list").lower()
    if action == "list":
        return _listing(ctx)
    if action == "add":
        telegram_id = user_id(line.word(1))
        name, _, role = line.rest(2).rpartition(" ")
        if not name.strip():
            raise BadArguments()
        with ctx.uow() as uow:
            member = add_staff(uow, ctx.actor, telegram_id, name, role)
            text = f"{member.name} ({telegram_id}) may now use the bot as {member.role}."
            uow.commit()
        return Answer(text)
    if action == "role":
        telegram_id = user_id(line.word(1))
        with ctx.uow() as uow:
            member = change_role(uow, ctx.actor, telegram_id, line.word(2))
            text = f"{member.name} is now {member.role}."
            uow.commit()
        return Answer(text)
    if action == "remove":
        telegram_id = user_id(line.word(1))
        return _ask_remove(ctx, telegram_id)
    raise BadArguments()


def _listing(ctx: Context) -> Answer:
    with ctx.uow() as uow:
        lines = [
            f"{member.telegram_user_id} {member.name} · {member.role} · since "
            f"{local_time(member.created_at, ctx.zone)}"
            for member in list_staff(uow)
        ]
    return Answer(
        "Staff:\n" + "\n".join(lines) + "\n\n/staff add ID NAME ROLE · /staff role ID ROLE · "
        "/staff remove ID (roles: owner, admin, agent, viewer; ID is the Telegram user id)"
    )


@confirmed_action("remove_staff")
def _remove_confirmed(ctx: Context, telegram_id: int) -> Answer:
    with ctx.uow() as uow:
        member = remove_staff(uow, ctx.actor, telegram_id)
        text = f"{member.name} may no longer use the bot."
        uow.commit()
    return Answer(text, edit=True)


def _ask_remove(ctx: Context, telegram_id: int) -> Answer:
    return ctx.confirm(
        f"Remove Telegram user {telegram_id} from staff?",
        "Yes, remove",
        _remove_confirmed,
        telegram_id=telegram_id,
    )


def cmd_web(ctx: Context, line: CommandLine) -> Answer:
    """``/web``: a one-time login link to the web console, for the staff member who asks."""
    if not ctx.actor.id.isdigit():
        # The operator at ``mteja console`` is no staff member: no one to log in as.
        return Answer(
            "/web logs a staff member in as themselves; the command line is not one. "
            "Run: mteja staff login-link NAME"
        )
    with ctx.uow() as uow:
        link = issue_login_link(uow, ctx.actor, str(ctx.user_id))
        uow.commit()
    url = f"{ctx.public_url.rstrip('/')}/staff/login/link/{link.token}"
    return Answer(
        f"Your login link to the web console, {link.member_name}:\n{url}\n\n"
        f"It works once, until {local_time(link.expires_at, ctx.zone)} (15 minutes). "
        "Do not forward it: whoever opens it is logged in as you."
    )
