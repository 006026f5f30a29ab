"""The Staff page: everyone sees who works here and sets their own password; only a role that
manages staff adds, re-roles, removes (after a confirmation page), makes login links and sets
others' passwords. The last owner is protected by core."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import select
from starlette.testclient import TestClient

from core.models import StaffMember
from core.unit_of_work import CoreServices
from tests.unit.web.conftest import (
    ROLES,
    STAFF_IDS,
    STAFF_NAMES,
    Shop,
    csrf_of,
    password_login,
    post_form,
)

PAGE = "/staff/staff"
MANAGERS = ("owner",)
NOT_MANAGERS = ("admin", "agent", "viewer")


def _members(services: CoreServices) -> dict[int, tuple[str, str, bool, bool]]:
    with services.unit_of_work() as uow:
        return {
            m.telegram_user_id: (m.name, m.role, m.active, m.password_hash is not None)
            for m in uow.session.scalars(select(StaffMember))
        }


def _password_login(app: Any, name: str, password: str) -> int:
    with TestClient(app, follow_redirects=False) as browser:
        return int(password_login(browser, name, password, next="/").status_code)


def test_without_a_session_the_staff_pages_redirect_to_login(
    anonymous: TestClient, shop: Shop
) -> None:
    for path in (PAGE, f"{PAGE}/1003/remove"):
        response = anonymous.get(path)
        assert response.status_code == 303
        assert response.headers["location"].startswith("/staff/login?next=")
        assert "Chebet" not in response.text


def test_a_post_without_a_session_changes_nothing(
    anonymous: TestClient, services: CoreServices, shop: Shop
) -> None:
    before = _members(services)
    response = anonymous.post(f"{PAGE}/1003/remove", data={"csrf": "x"})
    assert response.status_code == 303
    assert _members(services) == before


@pytest.mark.parametrize("role", ROLES)
def test_every_role_sees_the_staff_with_role_and_password_state(login, role: str) -> None:
    page = login(role).get(PAGE)
    assert page.status_code == 200
    for other, name in STAFF_NAMES.items():
        assert name in page.text and str(STAFF_IDS[other]) in page.text
    assert "My password" in page.text
    managing = ("Add staff" in page.text, "Make login link" in page.text, "Remove…" in page.text)
    assert managing == ((role in MANAGERS,) * 3)


def test_the_owner_adds_changes_the_role_of_and_removes_staff(
    login, services: CoreServices
) -> None:
    owner = login("owner")
    added = post_form(owner, PAGE, f"{PAGE}/add", telegram_id="5005", name="Mary W", role="agent")
    assert added.status_code == 303 and added.headers["location"] == PAGE
    assert _members(services)[5005][:3] == ("Mary W", "agent", True)
    page = owner.get(PAGE)
    assert "Mary W (5005) is now staff as agent." in page.text

    changed = post_form(owner, PAGE, f"{PAGE}/5005/role", role="admin")
    assert changed.status_code == 303
    assert _members(services)[5005][1] == "admin"

    confirm = owner.get(f"{PAGE}/5005/remove")
    assert confirm.status_code == 200 and "Remove Mary W?" in confirm.text
    assert _members(services)[5005][2] is True  # asking changes nothing
    removed = owner.post(f"{PAGE}/5005/remove", data={"csrf": csrf_of(confirm.text)})
    assert removed.status_code == 303
    assert _members(services)[5005][2] is False
    assert "Mary W" not in owner.get(PAGE).text.split("is no longer staff")[-1]


def test_the_last_owner_cannot_be_removed_or_demoted(login, services: CoreServices) -> None:
    owner = login("owner")
    before = _members(services)
    demote = post_form(owner, PAGE, f"{PAGE}/1001/role", role="viewer")
    assert demote.status_code == 400 and "last owner" in demote.text
    remove = post_form(owner, f"{PAGE}/1001/remove", f"{PAGE}/1001/remove")
    assert remove.status_code == 400
    assert _members(services) == before


@pytest.mark.parametrize(
    "fields",
    [
        {"telegram_id": "abc", "name": "Mary", "role": "agent"},
        {"telegram_id": "9" * 25, "name": "Mary", "role": "agent"},
        {"telegram_id": "-5", "name": "Mary", "role": "agent"},
        {"telegram_id": "5005", "name": "Mary", "role": "boss"},
        {"telegram_id": "5005", "name": " ", "role": "agent"},
        {"telegram_id": "1003", "name": "Again", "role": "agent"},
    ],
)
def test_bad_staff_input_is_a_400_and_changes_nothing(
    login, services: CoreServices, fields: dict[str, str]
) -> None:
    owner = login("owner")
    before = _members(services)
    response = post_form(owner, PAGE, f"{PAGE}/add", **fields)
    assert response.status_code == 400
    assert _members(services) == before


def test_a_bad_role_change_is_a_400(login, services: CoreServices) -> None:
    before = _members(services)
    assert post_form(login("owner"), PAGE, f"{PAGE}/1003/role", role="evil").status_code == 400
    assert _members(services) == before


@pytest.mark.parametrize("telegram_id", ["999", "9" * 25])
def test_an_unknown_member_is_a_404(login, services: CoreServices, telegram_id: str) -> None:
    owner = login("owner")
    before = _members(services)
    assert owner.get(f"{PAGE}/{telegram_id}/remove").status_code == 404
    for action in ("role", "remove", "login-link", "password"):
        fields = {"role": "agent", "password": "x" * 12, "password_again": "x" * 12}
        response = post_form(owner, PAGE, f"{PAGE}/{telegram_id}/{action}", **fields)
        assert response.status_code == 404, action
    assert _members(services) == before


@pytest.mark.parametrize("role", NOT_MANAGERS)
def test_a_role_that_does_not_manage_staff_is_refused_every_change(
    login, services: CoreServices, role: str
) -> None:
    client = login(role)
    before = _members(services)
    assert client.get(f"{PAGE}/1004/remove").status_code == 403
    attempts = [
        (f"{PAGE}/add", {"telegram_id": "5005", "name": "Mary", "role": "owner"}),
        (f"{PAGE}/1004/role", {"role": "owner"}),
        (f"{PAGE}/1004/remove", {}),
        (f"{PAGE}/1004/login-link", {}),
        (f"{PAGE}/1004/password", {"password": "x" * 12, "password_again": "x" * 12}),
    ]
    for action, fields in attempts:
        response = post_form(client, PAGE, action, **fields)
        assert response.status_code == 403, action
        assert "/staff/login/link/" not in response.text
    assert _members(services) == before


def test_the_owner_makes_a_login_link_shown_once_that_logs_in_once(
    app: Any, login, shop: Shop
) -> None:
    owner = login("owner")
    shown = post_form(owner, PAGE, f"{PAGE}/1003/login-link")
    assert shown.status_code == 200
    found = re.search(r"http://testserver(/staff/login/link/[\w-]+)", shown.text)
    assert found and "Login link for Chebet Agent" in shown.text
    assert found.group(1) not in owner.get(PAGE).text  # not shown again
    with TestClient(app, follow_redirects=False) as browser:
        page = browser.get(found.group(1))
        assert page.status_code == 200 and "Chebet Agent" in page.text
        assert browser.post(found.group(1), data={"csrf": csrf_of(page.text)}).status_code == 303
        assert "Chebet Agent · agent" in browser.get("/staff/").text
        assert browser.get(found.group(1)).status_code == 410


def test_the_owner_sets_someones_password(app: Any, login, services: CoreServices) -> None:
    owner = login("owner")
    done = post_form(
        owner,
        PAGE,
        f"{PAGE}/1004/password",
        password="viewer-secret-1",
        password_again="viewer-secret-1",
    )
    assert done.status_code == 303
    assert _members(services)[1004][3] is True
    assert _password_login(app, "Dedan Viewer", "viewer-secret-1") == 303


@pytest.mark.parametrize("role", ROLES)
def test_every_role_sets_their_own_password(
    app: Any, login, services: CoreServices, role: str
) -> None:
    client = login(role)
    done = post_form(
        client,
        PAGE,
        f"{PAGE}/me/password",
        password="my-own-secret",
        password_again="my-own-secret",
    )
    assert done.status_code == 303
    assert "Your password is set." in client.get(PAGE).text
    assert _password_login(app, STAFF_NAMES[role], "my-own-secret") == 303
    others = {k: v for k, v in _members(services).items() if k != STAFF_IDS[role]}
    assert not any(has for *_, has in others.values())


@pytest.mark.parametrize(
    ("password", "again", "why"),
    [
        ("my-own-secret", "my-own-secreT", "differ"),
        ("short", "short", "10 characters"),
        (" spaced-secret ", " spaced-secret ", "spaces"),
    ],
)
def test_a_bad_password_is_a_400_and_sets_nothing(
    login, services: CoreServices, password: str, again: str, why: str
) -> None:
    client = login("agent")
    response = post_form(
        client, PAGE, f"{PAGE}/me/password", password=password, password_again=again
    )
    assert response.status_code == 400 and why in response.text
    assert _members(services)[STAFF_IDS["agent"]][3] is False
