"""What every staff console page shares: the session, the role check, CSRF, templates, errors.

A page is a plain function ``handler(view) -> Response`` registered with ``console.page(...)``
(GET) or ``console.action(...)`` (POST). The wrapper finds the session first: without one a
page answers 303 to the login page and nothing else. An action's form is read and its CSRF
token checked before the handler runs. The handler runs in a worker thread (the database calls
are blocking) and calls core use cases, which check the role again: a PermissionDenied answers
403 and the transaction is rolled back, so nothing changes. Business rules live in core; a
handler only reads the request, calls a use case, and renders or redirects.
"""

from __future__ import annotations

import logging
import re
import secrets
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, unquote, urlencode, urlsplit

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup
from sqlalchemy.exc import DataError
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from core import display
from core.actors import Permission, can
from core.errors import DomainError, NotFound, PermissionDenied, RateLimited
from core.phones import display_phone
from core.unit_of_work import CoreServices, UnitOfWork
from core.usecases.staff_access import StaffVisit, spend_form_token, visit
from routers.presence import Presence

log = logging.getLogger(__name__)

SESSION_COOKIE = "mteja_staff"
FLASH_COOKIE = "mteja_flash"
# Before there is a session (the login forms): a double-submit token in a cookie and the form.
LOGIN_CSRF_COOKIE = "mteja_login_csrf"
PREFIX = "/staff"

Handler = Callable[["View"], Response]
PresenceLookup = Callable[[int], Presence]
_EXPIRED_FORM = "This form has expired. Reload the page and try again."


@dataclass(frozen=True)
class ConsoleConfig:
    """``public_url``: where staff reach mteja (login links are made under it; an https URL makes
    every cookie Secure)."""

    public_url: str = "http://127.0.0.1:8000"

    @property
    def secure_cookies(self) -> bool:
        return self.public_url.lower().startswith("https://")

    def link(self, path: str) -> str:
        return self.public_url.rstrip("/") + path


@dataclass
class View:
    """One request to a console page, as a handler sees it."""

    request: Request
    console: Console
    visit: StaffVisit | None
    form: FormData | None = None
    _cookies: list[tuple[str, str, int | None]] = field(default_factory=list)

    @property
    def services(self) -> CoreServices:
        return self.console.services

    @property
    def actor(self) -> Any:
        assert self.visit is not None
        return self.visit.actor

    def can(self, permission: Permission | str) -> bool:
        return self.visit is not None and can(self.visit.actor, Permission(permission))

    @contextmanager
    def uow(self, *, read_only: bool = False) -> Iterator[UnitOfWork]:
        with self.services.unit_of_work(read_only=read_only) as uow:
            yield uow

    def spend_once(self) -> bool:
        """Spend this form's one-time token (see Console.action's ``once``): False when the
        same form was already sent, or carries no token."""
        token = self.field("once")
        if self.visit is None or not _ONCE_TOKEN.fullmatch(token):
            return False
        return self.console.spend_once(self.visit.staff_id, token)

    def query(self, name: str, default: str = "") -> str:
        return self.request.query_params.get(name, default)

    def field(self, name: str, default: str = "") -> str:
        """A text field of the posted form ("" when absent; files are not text)."""
        value = self.form.get(name) if self.form is not None else None
        return value if isinstance(value, str) else default

    def flag(self, name: str) -> bool:
        return self.field(name) in {"1", "on", "yes", "true"}

    def render(self, template: str, status_code: int = 200, **values: Any) -> Response:
        response = HTMLResponse(self.console.render(self, template, values), status_code)
        if self.request.cookies.get(FLASH_COOKIE):
            response.delete_cookie(FLASH_COOKIE, path=PREFIX)
        self._apply_cookies(response)
        return response

    def redirect(self, path: str, flash: str | None = None) -> Response:
        """303 to ``path`` (a console path), with ``flash`` shown once on the page it lands on."""
        response = RedirectResponse(path, status_code=303)
        if flash:
            response.set_cookie(
                FLASH_COOKIE,
                quote(flash[:600]),
                path=PREFIX,
                httponly=True,
                samesite="lax",
                secure=self.console.config.secure_cookies,
            )
        self._apply_cookies(response)
        return response

    def set_cookie(self, name: str, value: str, max_age: int | None) -> None:
        self._cookies.append((name, value, max_age))

    def _apply_cookies(self, response: Response) -> None:
        for name, value, max_age in self._cookies:
            response.set_cookie(
                name,
                value,
                max_age=max_age,
                path=PREFIX,
                httponly=True,
                samesite="lax",
                secure=self.console.config.secure_cookies,
            )

    @property
    def flash(self) -> str:
        return unquote(self.request.cookies.get(FLASH_COOKIE, ""))


def query_url(path: str, params: Mapping[str, Any], **changes: Any) -> str:
    """``path`` with ``params`` as its query, some changed (a None or "" value is left out)."""
    merged = {**params, **changes}
    kept = {key: value for key, value in merged.items() if value not in (None, "")}
    return f"{path}?{urlencode(kept)}" if kept else path


def csv_download(content: str | bytes, filename: str) -> Response:
    """A CSV file the browser saves as ``filename``."""
    return Response(
        content,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


class Console:
    """The staff console's shared parts: core services, settings and the template set."""

    def __init__(
        self, services: CoreServices, config: ConsoleConfig, presence: PresenceLookup | None = None
    ) -> None:
        self.services = services
        self.config = config
        # Asks a customer's router whether they are online right now (short timeouts); None:
        # pages show what the last usage sample recorded.
        self.presence = presence
        self.templates = Environment(
            loader=PackageLoader("web.console", "templates"),
            autoescape=select_autoescape(default=True, default_for_string=True),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        zone = services.config.timezone
        self.templates.filters.update(
            kes=display.kes,
            balance=display.balance_text,
            when=lambda value: display.local_time(value, zone) if value else "—",
            day=lambda value: display.local_date(value, zone) if value else "—",
            speed=lambda plan: display.speed(plan.download, plan.upload),
            data=display.data_amount,
            phone=lambda value: display_phone(value) if value else "—",
            # {{ 3|counted("payment") }} → "3 payments"; {{ 1|counted("day") }} → "1 day".
            counted=lambda count, noun: f"{count:,} {noun}" + ("" if count == 1 else "s"),
        )
        self.templates.globals.update(
            isp_name=services.config.isp_name, query_url=query_url, prefix=PREFIX
        )

    def render(self, view: View, template: str, values: Mapping[str, Any]) -> str:
        def csrf_field() -> Markup:
            # Every form also carries a fresh one-time token: actions registered with
            # once=True spend it, so the same form sent twice does its work once.
            token = view.visit.csrf_token if view.visit is not None else ""
            return Markup(
                '<input type="hidden" name="csrf" value="{}">'
                '<input type="hidden" name="once" value="{}">'
            ).format(token, secrets.token_urlsafe(24))

        return self.templates.get_template(template).render(
            view=view,
            me=view.visit.actor if view.visit is not None else None,
            can=view.can,
            csrf_field=csrf_field,
            flash=view.flash,
            path=view.request.url.path,
            now=self.services.clock.now(),
            **values,
        )

    def page(self, handler: Handler, permission: Permission = Permission.VIEW) -> Any:
        """A GET endpoint for staff with ``permission``; others see the login page (no session)
        or 403 (a role without it)."""

        async def endpoint(request: Request) -> Response:
            return await run_in_threadpool(self._serve, request, handler, None, permission)

        return endpoint

    def action(
        self, handler: Handler, permission: Permission | None = None, *, once: bool = False
    ) -> Any:
        """A POST endpoint: session, then CSRF, then ``permission`` (when the route itself
        needs one; the use case checks again), then, with ``once`` (money, messages: what must
        not happen twice), the form's one-time token is spent, then the handler."""

        async def endpoint(request: Request) -> Response:
            form = await request.form()
            return await run_in_threadpool(self._serve, request, handler, form, permission, once)

        return endpoint

    def public(self, handler: Handler) -> Any:
        """A page anyone may open (the login forms): no session needed; a POST to it must
        carry the login form's double-submit token."""

        async def endpoint(request: Request) -> Response:
            form = await request.form() if request.method == "POST" else None
            return await run_in_threadpool(self._serve_public, request, handler, form)

        return endpoint

    def _serve_public(self, request: Request, handler: Handler, form: FormData | None) -> Response:
        view = View(request, self, self._visit(request), form)
        if form is not None:
            expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
            sent = form.get("csrf")
            if not (expected and isinstance(sent, str) and secrets.compare_digest(expected, sent)):
                return self.error(view, 403, "This form has expired. Open the login page again.")
        if (problem := _unreadable(request, form)) is not None:
            return self.error(view, 400, problem)
        return self._run(view, handler)

    def _serve(
        self,
        request: Request,
        handler: Handler,
        form: FormData | None,
        permission: Permission | None,
        once: bool = False,
    ) -> Response:
        found = self._visit(request)
        if found is None:
            target = request.url.path if request.method == "GET" else PREFIX + "/"
            return RedirectResponse(f"{PREFIX}/login?{urlencode({'next': target})}", 303)
        view = View(request, self, found, form)
        if form is not None:
            sent = form.get("csrf")
            if not isinstance(sent, str) or not secrets.compare_digest(found.csrf_token, sent):
                return self.error(view, 403, _EXPIRED_FORM)
        if permission is not None and not view.can(permission):
            role = found.actor.role.value if found.actor.role else "staff"
            return self.error(
                view, 403, f"Your role ({role}) may not {permission.value.replace('_', ' ')}."
            )
        if (problem := _unreadable(request, form)) is not None:
            return self.error(view, 400, problem)
        if once:
            token = view.field("once")
            if not _ONCE_TOKEN.fullmatch(token):
                return self.error(view, 400, "This form has no one-time token: reload the page.")
            if not self.spend_once(found.staff_id, token):
                return view.redirect(
                    _back_path(request), flash="That form was already sent: nothing was done twice."
                )
        return self._run(view, handler)

    def spend_once(self, staff_id: int, token: str) -> bool:
        # Its own transaction, committed before the work: a second copy sent meanwhile waits
        # on the unique key and is refused. A refused action leaves the token spent; its
        # error page leads back to a page with a fresh one.
        with self.services.unit_of_work() as uow:
            spent = spend_form_token(uow, staff_id, token)
            uow.commit()
        return spent

    def _run(self, view: View, handler: Handler) -> Response:
        try:
            return handler(view)
        except PermissionDenied as exc:
            return self.error(view, 403, as_sentence(str(exc)))
        except NotFound as exc:
            return self.error(view, 404, as_sentence(str(exc)))
        except RateLimited as exc:
            return self.error(view, 429, as_sentence(str(exc)))
        except DomainError as exc:
            return self.error(view, 400, as_sentence(str(exc)))
        except DataError as exc:
            # The last line: a value the database refused (too long, out of range) that no
            # rule caught first. Logged without its parameters (they may be customers' data).
            log.warning("console: the database refused a value (%s)", type(exc.orig).__name__)
            return self.error(view, 400, "A value is too long or too large.")

    def _visit(self, request: Request) -> StaffVisit | None:
        token = request.cookies.get(SESSION_COOKIE)
        if not token or len(token) > 200:
            return None
        with self.services.unit_of_work(read_only=True) as uow:
            return visit(uow, token)

    def error(self, view: View, status: int, message: str) -> Response:
        # Back to the page the form was on; a page refused on its own is no way back.
        back = _back_path(view.request)
        if urlsplit(back).path == view.request.url.path:
            back = f"{PREFIX}/"
        return view.render("error.html", status_code=status, message=message, back=back)


# What a form's one-time token looks like (secrets.token_urlsafe(24)).
_ONCE_TOKEN = re.compile(r"[A-Za-z0-9_-]{20,64}")
# Control characters no field, parameter or path of the console has a use for (NUL above all:
# PostgreSQL refuses it in text); tab and line breaks are kept for notes.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _unreadable(request: Request, form: FormData | None) -> str | None:
    """Why the request's path, query or form cannot be taken (None: it can)."""
    values = [request.url.path, *request.query_params.values()]
    if form is not None:
        values += [value for value in form.values() if isinstance(value, str)]
    if any(_CONTROL.search(value) for value in values):
        return "The request holds a control character (such as NUL) that no field may hold."
    return None


def _back_path(request: Request) -> str:
    """The console page a form was sent from (its Referer), or the dashboard: only a console
    path, never another site."""
    referer = urlsplit(request.headers.get("referer", ""))
    back = referer.path + (f"?{referer.query}" if referer.query else "")
    return back if back.startswith(PREFIX + "/") and not back.startswith("//") else PREFIX + "/"


def as_sentence(text: str) -> str:
    """A core message as a sentence on a page: capital first letter, a full stop at the end."""
    text = text.strip()
    if not text:
        return "That could not be done."
    text = text[0].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else text + "."
