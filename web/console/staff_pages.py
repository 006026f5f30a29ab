"""The Staff page: who works here, with which role and whether they have a web password; the
owner adds, re-roles and removes staff, makes login links and sets passwords; everyone sets
their own password. The rules (the last owner, who may do what) are core's."""

from __future__ import annotations

from starlette.responses import Response
from starlette.routing import Route

from core.actors import Permission
from core.errors import InvalidInput, StaffNotFound
from core.usecases.staff import add_staff, change_role, find_staff, remove_staff
from core.usecases.staff_access import issue_login_link, set_password, staff_roster
from core.vocabulary import Role
from web.console.framework import PREFIX, SESSION_COOKIE, Console, View

STAFF_PATH = PREFIX + "/staff"
ROLES = [role.value for role in Role]
# Telegram user ids fit in 52 bits; a longer number is no one (and would overflow a column).
MAX_ID_DIGITS = 16


def _telegram_id(view: View) -> int:
    telegram_id: int = view.request.path_params["telegram_id"]
    if len(str(telegram_id)) > MAX_ID_DIGITS:
        raise StaffNotFound(f"Telegram user {str(telegram_id)[:20]}… is not staff")
    return telegram_id


def _page(view: View, login_link: str = "", link_for: str = "") -> Response:
    with view.uow(read_only=True) as uow:
        roster = staff_roster(uow)
    return view.render(
        "staff/list.html",
        roster=roster,
        roles=ROLES,
        login_link=login_link,
        link_for=link_for,
    )


def staff_list(view: View) -> Response:
    return _page(view)


def staff_add(view: View) -> Response:
    telegram_id = view.field("telegram_id").strip()
    if not (telegram_id.isascii() and telegram_id.isdigit()) or len(telegram_id) > MAX_ID_DIGITS:
        raise InvalidInput("a Telegram user id is a number (the bot tells a stranger theirs)")
    with view.uow() as uow:
        member = add_staff(
            uow, view.actor, int(telegram_id), view.field("name"), view.field("role")
        )
        uow.commit()
        done = f"{member.name} ({member.telegram_user_id}) is now staff as {member.role}."
    return view.redirect(STAFF_PATH, flash=done)


def staff_role(view: View) -> Response:
    with view.uow() as uow:
        member = change_role(uow, view.actor, _telegram_id(view), view.field("role"))
        uow.commit()
        done = f"{member.name} is now {member.role}."
    return view.redirect(STAFF_PATH, flash=done)


def staff_remove_page(view: View) -> Response:
    with view.uow(read_only=True) as uow:
        member = find_staff(uow, str(_telegram_id(view)))
        name, telegram_id = member.name, member.telegram_user_id
    return view.render("staff/remove.html", name=name, telegram_id=telegram_id)


def staff_remove(view: View) -> Response:
    with view.uow() as uow:
        member = remove_staff(uow, view.actor, _telegram_id(view))
        uow.commit()
        done = f"{member.name} is no longer staff: the bot and the console refuse them."
    return view.redirect(STAFF_PATH, flash=done)


def staff_login_link(view: View) -> Response:
    """The link is shown on this one answer only (it is stored hashed); hand it over by hand."""
    with view.uow() as uow:
        link = issue_login_link(uow, view.actor, str(_telegram_id(view)))
        uow.commit()
    url = view.console.config.link(f"{PREFIX}/login/link/{link.token}")
    return _page(view, login_link=url, link_for=link.member_name)


def _new_password(view: View) -> str:
    password = view.field("password")
    if password != view.field("password_again"):
        raise InvalidInput("the two passwords differ: type the same one twice")
    return password


def staff_password(view: View) -> Response:
    password = _new_password(view)
    with view.uow() as uow:
        member = set_password(uow, view.actor, str(_telegram_id(view)), password)
        uow.commit()
        done = f"{member.name}'s password is set."
    return view.redirect(STAFF_PATH, flash=done)


def my_password(view: View) -> Response:
    password = _new_password(view)
    with view.uow() as uow:
        set_password(
            uow,
            view.actor,
            view.actor.id,
            password,
            current_password=view.field("current_password"),
            keep_session=view.request.cookies.get(SESSION_COOKIE),
        )
        uow.commit()
    return view.redirect(STAFF_PATH, flash="Your password is set.")


def staff_routes(console: Console) -> list[Route]:
    manage = Permission.MANAGE_STAFF
    member = "/staff/{telegram_id:int}"
    return [
        Route("/staff", console.page(staff_list), methods=["GET"]),
        Route("/staff/add", console.action(staff_add, manage), methods=["POST"]),
        Route("/staff/me/password", console.action(my_password), methods=["POST"]),
        Route(member + "/role", console.action(staff_role, manage), methods=["POST"]),
        Route(member + "/remove", console.page(staff_remove_page, manage), methods=["GET"]),
        Route(member + "/remove", console.action(staff_remove, manage), methods=["POST"]),
        Route(member + "/login-link", console.action(staff_login_link, manage), methods=["POST"]),
        Route(member + "/password", console.action(staff_password, manage), methods=["POST"]),
    ]
