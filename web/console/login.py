"""Getting in and out: name + password, one-time links, logout.

A one-time link is opened with GET, which only shows whose link it is and a button: chat apps
fetch links to preview them, and a GET that logged in would spend the link on the preview.
The button POSTs the token, and that request opens the session.
"""

from __future__ import annotations

import secrets

from starlette.responses import Response
from starlette.routing import Route

from core.usecases.staff_access import (
    SESSION_LIFETIME,
    LoginRefused,
    OpenedSession,
    link_holder,
    log_out,
    password_login,
    redeem_login_link,
)
from web.console.framework import (
    LOGIN_CSRF_COOKIE,
    PREFIX,
    SESSION_COOKIE,
    Console,
    View,
)


def _safe_next(target: str) -> str:
    """Where to go after login: only a console path (never another site, never //host)."""
    if target.startswith(PREFIX + "/") and not target.startswith("//") and "\\" not in target:
        return target
    return PREFIX + "/"


def _login_form(view: View, template: str, status_code: int = 200, **values: object) -> Response:
    token = view.request.cookies.get(LOGIN_CSRF_COOKIE) or secrets.token_urlsafe(32)
    view.set_cookie(LOGIN_CSRF_COOKIE, token, max_age=3600)
    return view.render(template, status_code=status_code, login_csrf=token, **values)


def _signed_in(view: View, opened: OpenedSession, target: str) -> Response:
    view.set_cookie(SESSION_COOKIE, opened.token, int(SESSION_LIFETIME.total_seconds()))
    return view.redirect(_safe_next(target))


def login_page(view: View) -> Response:
    if view.visit is not None:
        return view.redirect(_safe_next(view.query("next")))
    return _login_form(view, "login.html", next=_safe_next(view.query("next")), name="", error="")


def login_submit(view: View) -> Response:
    name, target = view.field("name"), _safe_next(view.field("next"))
    client = view.request.client.host if view.request.client else "unknown"
    with view.uow() as uow:
        attempt = password_login(uow, name, view.field("password"), client)
        uow.commit()
    if attempt.opened is None:
        return _login_form(view, "login.html", 401, next=target, name=name, error=attempt.refusal)
    return _signed_in(view, attempt.opened, target)


def link_page(view: View) -> Response:
    token = view.request.path_params["token"]
    with view.uow(read_only=True) as uow:
        holder = link_holder(uow, token)
    return _login_form(view, "login_link.html", 200 if holder else 410, holder=holder, token=token)


def link_submit(view: View) -> Response:
    try:
        with view.uow() as uow:
            opened = redeem_login_link(uow, view.request.path_params["token"])
            uow.commit()
    except LoginRefused:
        return _login_form(view, "login_link.html", 410, holder=None, token="")
    return _signed_in(view, opened, PREFIX + "/")


def logout(view: View) -> Response:
    token = view.request.cookies.get(SESSION_COOKIE, "")
    with view.uow() as uow:
        log_out(uow, token)
        uow.commit()
    view.set_cookie(SESSION_COOKIE, "", max_age=0)
    return view.redirect(PREFIX + "/login", flash="You are logged out.")


def login_routes(console: Console) -> list[Route]:
    return [
        Route("/login", console.public(login_page), methods=["GET"]),
        Route("/login", console.public(login_submit), methods=["POST"]),
        Route("/login/link/{token}", console.public(link_page), methods=["GET"]),
        Route("/login/link/{token}", console.public(link_submit), methods=["POST"]),
        Route("/logout", console.action(logout), methods=["POST"]),
    ]
