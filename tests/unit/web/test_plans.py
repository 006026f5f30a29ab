"""The plans page: the list for everyone, and adding, retiring and the pools of a plan for the
roles that manage the network (17)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import select
from starlette.testclient import TestClient

from core.models import Plan
from core.unit_of_work import CoreServices
from core.usecases.network import plan_pool_labels
from tests.unit.web.conftest import Shop, csrf_at, post_form, row_count

PLANS = "/staff/plans"
NEW_PLAN = {
    "name": "Home 50M",
    "connection_type": "pppoe",
    "price_kes": "4,000",
    "download": "50M",
    "upload": "20M",
    "validity_days": "30",
    "validity_hours": "",
    "data_cap_mb": "",
    "throttle": "",
}


def _plan(services: CoreServices, name: str) -> tuple[bool, int, list[str]] | None:
    with services.unit_of_work(read_only=True) as uow:
        plan = uow.session.scalars(select(Plan).where(Plan.name == name)).first()
        if plan is None:
            return None
        return plan.active, plan.price_kes, plan_pool_labels(uow, plan.id)


def _plan_count(services: CoreServices) -> int:
    return row_count(services, Plan.id)


@pytest.mark.parametrize("role", ["owner", "admin", "agent", "viewer"])
def test_every_role_sees_the_plans(login: Callable[[str], TestClient], role: str) -> None:
    page = login(role).get(PLANS)
    assert page.status_code == 200
    for text in ("Home 10M", "Home 20M", "Daily 5M", "KES 1,500", "30 days", "1 day"):
        assert text in page.text
    managing = role in ("owner", "admin")
    assert ("Add plan" in page.text) is managing
    assert ("Retire" in page.text) is managing


def test_without_a_session_the_plans_page_redirects(anonymous: TestClient, shop: Shop) -> None:
    response = anonymous.get(PLANS)
    assert response.status_code == 303 and "Home 10M" not in response.text


def test_an_admin_adds_a_plan(login: Callable[[str], TestClient], services: CoreServices) -> None:
    client = login("admin")
    done = post_form(client, PLANS, PLANS, **NEW_PLAN)
    assert done.status_code == 303 and done.headers["location"] == PLANS
    assert _plan(services, "Home 50M") == (True, 4000, [])
    assert "Home 50M" in client.get(PLANS).text
    hourly = {
        **NEW_PLAN,
        "name": "Hour 2M",
        "connection_type": "hotspot",
        "price_kes": "10",
        "validity_days": "",
        "validity_hours": "3",
        "data_cap_mb": "500",
        "throttle": "512k",
    }
    assert post_form(client, PLANS, PLANS, **hourly).status_code == 303
    page = client.get(PLANS).text
    assert "3 hours" in page and "500 MB" in page


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"price_kes": "cheap"}, "whole number of shillings"),
        ({"validity_days": "abc"}, "validity in days must be a whole number"),
        ({"validity_days": "", "validity_hours": "24"}, "validity in hours is for hotspot plans"),
        ({"download": "fast"}, "speed must look like"),
        ({"connection_type": "fibre"}, "connection type must be one of"),
        ({"name": "Home 10M"}, "already exists"),
        ({"throttle": "1M"}, "give the cap too"),
    ],
)
def test_a_refused_plan_shows_the_form_again_with_the_message(
    login: Callable[[str], TestClient],
    services: CoreServices,
    fields: dict[str, str],
    message: str,
) -> None:
    before = _plan_count(services)
    refused = post_form(login("owner"), PLANS, PLANS, **{**NEW_PLAN, **fields})
    assert refused.status_code == 400
    assert message.lower() in refused.text.lower()
    assert f'value="{fields.get("name", "Home 50M")}"' in refused.text
    assert _plan_count(services) == before


def test_retire_and_put_back_on_sale(
    login: Callable[[str], TestClient], services: CoreServices
) -> None:
    client = login("admin")
    done = post_form(client, PLANS, f"{PLANS}/active", plan="Home 20M", active="no")
    assert done.status_code == 303
    assert _plan(services, "Home 20M") == (False, 2500, [])
    assert "Put on sale" in client.get(PLANS).text
    post_form(client, PLANS, f"{PLANS}/active", plan="Home 20M", active="yes")
    assert _plan(services, "Home 20M") == (True, 2500, [])
    bad = post_form(client, PLANS, f"{PLANS}/active", plan="Home 20M", active="maybe")
    assert bad.status_code == 400
    unknown = post_form(client, PLANS, f"{PLANS}/active", plan="Nope", active="no")
    assert unknown.status_code == 404


def test_the_pools_of_a_plan(login: Callable[[str], TestClient], services: CoreServices) -> None:
    client = login("admin")
    done = post_form(client, PLANS, f"{PLANS}/pools", plan="Home 20M", pools="core-1:10.10.0.0/24")
    assert done.status_code == 303
    assert _plan(services, "Home 20M") == (True, 2500, ["core-1:10.10.0.0/24"])
    assert "core-1:10.10.0.0/24" in client.get(PLANS).text
    cleared = post_form(client, PLANS, f"{PLANS}/pools", plan="Home 20M")
    assert cleared.status_code == 303
    assert _plan(services, "Home 20M") == (True, 2500, [])
    hotspot = post_form(client, PLANS, f"{PLANS}/pools", plan="Daily 5M", pools="10.10.0.0/24")
    assert hotspot.status_code == 400 and _plan(services, "Daily 5M") == (True, 50, [])
    garbage = post_form(client, PLANS, f"{PLANS}/pools", plan="Home 20M", pools="10.99.0.0/99")
    assert garbage.status_code == 400 and _plan(services, "Home 20M") == (True, 2500, [])


@pytest.mark.parametrize("role", ["agent", "viewer"])
def test_other_roles_may_not_change_plans(
    login: Callable[[str], TestClient], services: CoreServices, role: str
) -> None:
    client = login(role)
    csrf = csrf_at(client, PLANS)
    before = _plan_count(services)
    for path, fields in (
        (PLANS, NEW_PLAN),
        (f"{PLANS}/active", {"plan": "Home 20M", "active": "no"}),
        (f"{PLANS}/pools", {"plan": "Home 20M", "pools": "10.10.0.0/24"}),
    ):
        assert client.post(path, data={"csrf": csrf, **fields}).status_code == 403
    assert _plan_count(services) == before
    assert _plan(services, "Home 20M") == (True, 2500, [])
