"""The routers pages: health and syncs as core recorded them, pools with how full they are, and
adding a pool for the roles that manage the network (17)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import select
from starlette.testclient import TestClient

from core.actors import Actor
from core.models import IpPool, Router
from core.unit_of_work import CoreServices
from core.usecases.network import RouterSpec, add_router
from tests.unit.web.conftest import Shop, csrf_at, post_form

ROUTERS = "/staff/routers"
CORE = "/staff/routers/core-1"


def _pools(services: CoreServices) -> list[str]:
    with services.unit_of_work(read_only=True) as uow:
        return list(uow.session.scalars(select(IpPool.cidr).order_by(IpPool.id)))


@pytest.mark.parametrize("role", ["owner", "admin", "agent", "viewer"])
def test_every_role_sees_routers_and_pools(
    login: Callable[[str], TestClient], services: CoreServices, role: str
) -> None:
    with services.unit_of_work() as uow:
        router = uow.session.scalars(select(Router)).one()
        router.status = "offline"
        router.last_error = "connection timed out"
        router.last_seen_at = services.clock.now() - timedelta(hours=2)
        uow.commit()
    client = login(role)
    listing = client.get(ROUTERS)
    assert listing.status_code == 200
    for text in ("core-1", "127.0.0.1:8728", "offline", "connection timed out", "10.10.0.0/24"):
        assert text in listing.text
    # 253 customer addresses in a /24 (the router keeps the first); two customers have one.
    assert '<td class="num">2</td>' in listing.text and '<td class="num">251</td>' in listing.text
    details = client.get(CORE)
    assert details.status_code == 200
    assert "connection timed out" in details.text and "Free addresses" in details.text
    assert ("Add pool" in details.text) is (role in ("owner", "admin"))


def test_an_unknown_router_is_a_404(login: Callable[[str], TestClient]) -> None:
    assert login("viewer").get("/staff/routers/nope").status_code == 404


def test_without_a_session_the_routers_pages_redirect(anonymous: TestClient, shop: Shop) -> None:
    for path in (ROUTERS, CORE):
        response = anonymous.get(path)
        assert response.status_code == 303 and "10.10.0.0" not in response.text


def test_an_admin_adds_a_pool(login: Callable[[str], TestClient], services: CoreServices) -> None:
    client = login("admin")
    done = post_form(client, CORE, f"{CORE}/pools", cidr="10.20.0.0/16")
    assert done.status_code == 303 and done.headers["location"] == CORE
    assert _pools(services) == ["10.10.0.0/24", "10.20.0.0/16"]
    assert "10.20.0.0/16" in client.get(CORE).text


@pytest.mark.parametrize(
    ("cidr", "message"),
    [("10.10.0.128/25", "overlaps"), ("garbage", "garbage"), ("", ""), ("10.0.0.0/99", "")],
)
def test_a_refused_pool_shows_the_page_again_with_the_message(
    login: Callable[[str], TestClient], services: CoreServices, cidr: str, message: str
) -> None:
    refused = post_form(login("owner"), CORE, f"{CORE}/pools", cidr=cidr)
    assert refused.status_code == 400 and message in refused.text
    assert _pools(services) == ["10.10.0.0/24"]


@pytest.mark.parametrize("role", ["agent", "viewer"])
def test_other_roles_may_not_add_pools(
    login: Callable[[str], TestClient], services: CoreServices, role: str
) -> None:
    client = login(role)
    csrf = csrf_at(client, CORE)
    response = client.post(f"{CORE}/pools", data={"csrf": csrf, "cidr": "10.20.0.0/16"})
    assert response.status_code == 403
    assert _pools(services) == ["10.10.0.0/24"]


def test_the_routers_pages_flag_plain_api_a_mismatch_and_hide_removed_routers(
    login: Callable[[str], TestClient], services: CoreServices, staff: Actor
) -> None:

    with services.unit_of_work() as uow:
        router = uow.session.scalars(select(Router)).one()
        router.status, router.last_error = "cert-mismatch", "not the pinned one"
        gone = add_router(
            uow, staff, RouterSpec("old-9", "10.9.9.9", 8728, "a", "p", plain_api=True)
        )
        gone.removed_at = services.clock.now()
        uow.commit()
    client = login("viewer")

    listing = client.get(ROUTERS).text
    page = client.get(CORE).text

    for text in ("certificate mismatch", "PLAIN API: password sent in clear"):
        assert text in listing and text in page
    assert "old-9" not in listing
    assert client.get("/staff/routers/old-9").status_code == 404
