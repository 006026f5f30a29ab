"""Getting into the staff console: the one-time link, the password, the session and its cookie,
CSRF, and what a browser without a session sees."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from starlette.testclient import TestClient

from core.actors import Actor
from core.clock import FrozenClock
from core.errors import InvalidInput, PermissionDenied
from core.models import AuditEvent, StaffLoginLink
from core.unit_of_work import CoreServices
from core.usecases.staff import remove_staff
from core.usecases.staff_access import issue_login_link, set_password
from core.vocabulary import Role
from tests.unit.web.conftest import (
    STAFF_IDS,
    STAFF_NAMES,
    Shop,
    csrf_at,
    csrf_of,
    login_link,
    password_login,
)
from web.app import WebConfig, create_app
from web.console import ConsoleConfig

PAGES = ["/staff/"]  # each page module adds its own paths


@pytest.mark.parametrize("path", PAGES)
def test_without_a_session_every_page_redirects_to_login_and_shows_no_data(
    anonymous: TestClient, shop: Shop, path: str
) -> None:
    response = anonymous.get(path)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/staff/login?next=")
    assert "Wanjiku" not in response.text and shop.paid not in response.text


def test_a_forged_or_ended_session_cookie_is_no_session(anonymous: TestClient, shop: Shop) -> None:
    anonymous.cookies.set("mteja_staff", "made-up-token")
    assert anonymous.get("/staff/").status_code == 303


def test_a_one_time_link_logs_in_once(
    anonymous: TestClient, services: CoreServices, shop: Shop
) -> None:
    path = login_link(services, "Amina")
    shown = anonymous.get(path)
    assert shown.status_code == 200 and "Amina Owner" in shown.text
    # Opening the link (a chat app's preview does) does not spend it.
    assert anonymous.get(path).status_code == 200
    used = anonymous.post(path, data={"csrf": csrf_of(shown.text)})
    assert used.status_code == 303 and used.headers["location"] == "/staff/"
    assert anonymous.get("/staff/").status_code == 200

    other = TestClient(anonymous.app, follow_redirects=False)
    again = other.get(path)
    assert again.status_code == 410
    other.cookies.set("mteja_login_csrf", "x")
    assert other.post(path, data={"csrf": "x"}).status_code == 410
    assert other.get("/staff/").status_code == 303


def test_a_link_is_void_after_15_minutes(
    anonymous: TestClient, services: CoreServices, clock: FrozenClock, shop: Shop
) -> None:
    path = login_link(services, "Amina")
    shown = anonymous.get(path)
    clock.advance(timedelta(minutes=15))
    assert anonymous.post(path, data={"csrf": csrf_of(shown.text)}).status_code == 410
    assert anonymous.get("/staff/").status_code == 303


def test_the_link_form_needs_its_double_submit_token(
    anonymous: TestClient, services: CoreServices, shop: Shop
) -> None:
    path = login_link(services, "Amina")
    anonymous.get(path)
    assert anonymous.post(path, data={"csrf": "wrong"}).status_code == 403
    # Refused before use: the link still works.
    assert anonymous.get(path).status_code == 200


def test_only_the_links_hash_is_stored(services: CoreServices, shop: Shop) -> None:
    with services.unit_of_work() as uow:
        link = issue_login_link(uow, Actor.cli(), "Amina")
        uow.commit()
    with services.unit_of_work() as uow:
        stored = uow.session.scalars(select(StaffLoginLink.token_hash)).all()
    assert link.token not in stored and len(stored) == 1


def test_staff_may_ask_for_their_own_link_but_only_managers_for_others(
    services: CoreServices, shop: Shop
) -> None:
    agent = Actor.staff(STAFF_IDS["agent"], STAFF_NAMES["agent"], Role.AGENT)
    with services.unit_of_work() as uow:
        assert issue_login_link(uow, agent, "Chebet").member_name == "Chebet Agent"
        with pytest.raises(PermissionDenied):
            issue_login_link(uow, agent, "Amina")


def _set_password(services: CoreServices, who: str, password: str) -> None:
    with services.unit_of_work() as uow:
        set_password(uow, Actor.cli(), who, password)
        uow.commit()


def test_a_password_logs_in_and_is_stored_as_argon2(
    anonymous: TestClient, services: CoreServices, shop: Shop
) -> None:
    _set_password(services, "Baraka", "correct horse battery")
    with services.unit_of_work() as uow:
        from core.models import StaffMember

        stored = uow.session.scalar(
            select(StaffMember.password_hash).where(StaffMember.name == "Baraka Admin")
        )
    assert stored is not None and stored.startswith("$argon2")
    done = password_login(anonymous, "baraka admin", "correct horse battery")
    assert done.status_code == 303
    assert "Baraka Admin" in anonymous.get("/staff/").text


def test_a_wrong_password_is_refused_audited_and_rate_limited(
    anonymous: TestClient, services: CoreServices, clock: FrozenClock, shop: Shop
) -> None:
    _set_password(services, "Baraka", "correct horse battery")
    for _ in range(5):
        refused = password_login(anonymous, "Baraka Admin", "guess")
        assert refused.status_code == 401 and "Wrong name or password" in refused.text
    # The sixth try is refused even with the right password, until the window passes.
    locked = password_login(anonymous, "Baraka Admin", "correct horse battery")
    assert locked.status_code == 401 and "Too many failed logins" in locked.text
    clock.advance(timedelta(minutes=16))
    assert password_login(anonymous, "Baraka Admin", "correct horse battery").status_code == 303
    with services.unit_of_work() as uow:
        refusals = uow.session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == "staff.login_refused")
        )
    assert refusals == 5


def test_a_password_too_short_is_refused(services: CoreServices, shop: Shop) -> None:
    with services.unit_of_work() as uow, pytest.raises(InvalidInput):
        set_password(uow, Actor.cli(), "Baraka", "short")


def test_after_login_the_next_page_is_only_a_console_path(
    anonymous: TestClient, services: CoreServices, shop: Shop
) -> None:
    _set_password(services, "Baraka", "correct horse battery")
    done = password_login(
        anonymous, "Baraka Admin", "correct horse battery", next="https://evil.example/"
    )
    assert done.headers["location"] == "/staff/"


def test_logout_ends_the_session_and_needs_the_csrf_token(
    login: Callable[[str], TestClient],
) -> None:
    client = login("agent")
    page = client.get("/staff/")
    assert client.post("/staff/logout", data={"csrf": "forged"}).status_code == 403
    assert client.get("/staff/").status_code == 200
    out = client.post("/staff/logout", data={"csrf": csrf_of(page.text)})
    assert out.status_code == 303
    assert client.get("/staff/").status_code == 303


def test_removing_a_staff_member_ends_their_session(
    login: Callable[[str], TestClient], services: CoreServices
) -> None:
    client = login("agent")
    with services.unit_of_work() as uow:
        remove_staff(uow, Actor.cli(), STAFF_IDS["agent"])
        uow.commit()
    assert client.get("/staff/").status_code == 303


def test_the_session_cookie_is_httponly_and_samesite(
    anonymous: TestClient, services: CoreServices, shop: Shop
) -> None:
    path = login_link(services, "Amina")
    done = anonymous.post(path, data={"csrf": csrf_at(anonymous, path)})
    cookie = next(
        value
        for key, value in done.headers.multi_items()
        if key == "set-cookie" and value.startswith("mteja_staff=")
    )
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/staff" in cookie
    assert "Secure" not in cookie


def test_cookies_are_secure_when_the_public_url_is_https(
    services: CoreServices, shop: Shop
) -> None:
    app = create_app(services, WebConfig(console=ConsoleConfig("https://isp.example")))
    client = TestClient(app, follow_redirects=False, base_url="https://isp.example")
    path = login_link(services, "Amina")
    done = client.post(path, data={"csrf": csrf_at(client, path)})
    cookies = [value for key, value in done.headers.multi_items() if key == "set-cookie"]
    assert cookies and all("Secure" in value for value in cookies)


def test_pages_carry_a_strict_content_security_policy(
    login: Callable[[str], TestClient],
) -> None:
    response = login("viewer").get("/staff/")
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert "unsafe-inline" not in policy
    assert response.headers["cache-control"] == "no-store"
    static = login("viewer").get("/staff/static/htmx.min.js")
    assert static.status_code == 200 and "javascript" in static.headers["content-type"]


def test_spent_links_and_ended_sessions_are_forgotten_but_the_audit_remains(
    login: Callable[[str], TestClient], services: CoreServices, clock: FrozenClock
) -> None:
    from core.models import StaffSession
    from core.usecases.staff_access import forget_old_logins

    ended = login("agent")
    ended.post("/staff/logout", data={"csrf": csrf_at(ended, "/staff/")})
    kept = login("viewer")
    unused_link = login_link(services, "Amina")
    with services.unit_of_work() as uow:
        assert forget_old_logins(uow) == 3  # two used links and the ended session
        uow.commit()
    assert kept.get("/staff/").status_code == 200
    assert TestClient(kept.app).get(unused_link).status_code == 200
    clock.advance(timedelta(hours=13))
    with services.unit_of_work() as uow:
        assert forget_old_logins(uow) == 2  # the expired session and the expired link
        uow.commit()
        assert uow.session.scalar(select(func.count()).select_from(StaffSession)) == 0
        logins = uow.session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == "staff.web_login")
        )
    assert logins == 2
