"""Add Customer in the staff console: the steps, their checks by core, the free-address search,
and who may use it (17)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import func, select
from starlette.testclient import TestClient

from core.actors import Actor
from core.models import Customer, SmsMessage
from core.unit_of_work import CoreServices
from core.usecases.network import add_pool
from tests.unit.web.conftest import Shop, form_tokens, row_count

NEW = "/staff/customers/new"
ANSWERS = {
    "connection_type": "pppoe",
    "full_name": "Achieng Atieno",
    "phone": "0733111222",
    "email": "achieng@example.com",
    "physical_address": "Kisumu, Milimani",
    "plan": "Home 20M",
    "router": "core-1",
    "ip_address": "",
    "payment_method": "cash",
    "amount_kes": "2500",
    "activate": "yes",
    "send_welcome": "yes",
}


def _customers(services: CoreServices) -> int:
    return row_count(services, Customer.id)


def _step(client: TestClient, step: str, **fields: Any) -> Any:
    page = client.get(NEW)
    assert page.status_code == 200, page.text
    return client.post(NEW, data={**form_tokens(page.text), "step": step, **fields})


def _pool_id(client: TestClient) -> str:
    page = _step(client, "details", **ANSWERS)
    return page.text.split("/staff/pools/")[1].split("/free")[0]


@pytest.mark.parametrize("role", ["owner", "admin"])
def test_each_step_leads_to_the_next_and_create_makes_the_customer(
    login: Callable[[str], TestClient], services: CoreServices, role: str
) -> None:
    client = login(role)
    first = client.get(NEW)
    assert first.status_code == 200
    assert 'name="connection_type"' in first.text and ">Next</button>" in first.text
    details = _step(client, "type", connection_type="pppoe")
    assert details.status_code == 200 and 'name="full_name"' in details.text
    assert 'type="hidden" name="connection_type" value="pppoe"' in details.text
    service = _step(client, "details", **ANSWERS)
    assert service.status_code == 200 and "Home 20M" in service.text
    assert 'name="ip_prefix"' in service.text and "hx-get" in service.text
    payment = _step(client, "service", **ANSWERS)
    assert payment.status_code == 200 and 'name="payment_method"' in payment.text
    review = _step(client, "payment", **ANSWERS)
    assert review.status_code == 200 and "Create customer" in review.text
    assert "Achieng Atieno" in review.text
    before = _customers(services)
    done = _step(client, "create", **ANSWERS)
    assert done.status_code == 303, done.text
    with services.unit_of_work(read_only=True) as uow:
        customer = uow.session.scalars(
            select(Customer).where(Customer.full_name == "Achieng Atieno")
        ).one()
        assert done.headers["location"] == f"/staff/customers/{customer.account_number}"
        assert customer.plan.name == "Home 20M"
        assert customer.ip_address is not None and customer.ip_address.startswith("10.10.0.")
        assert customer.status == "active" and customer.email == "achieng@example.com"
        assert uow.session.scalar(
            select(func.count(SmsMessage.id)).where(SmsMessage.customer_id == customer.id)
        )
    assert _customers(services) == before + 1
    assert "mteja_flash" in done.headers["set-cookie"]


def test_back_keeps_the_answers_and_the_review_shows_the_money(
    login: Callable[[str], TestClient],
) -> None:
    client = login("admin")
    back = _step(client, "back:details", **ANSWERS)
    assert back.status_code == 200 and 'name="full_name" value="Achieng Atieno"' in back.text
    assert 'type="hidden" name="plan" value="Home 20M"' in back.text
    review = _step(client, "payment", **{**ANSWERS, "installation_fee_kes": "1,000"})
    assert "KES 2,500" in review.text and "KES 1,000" in review.text


def test_the_hotspot_type_offers_only_hotspot_plans_and_no_address(
    login: Callable[[str], TestClient],
) -> None:
    page = _step(login("admin"), "details", **{**ANSWERS, "connection_type": "hotspot"})
    assert page.status_code == 200
    assert "Daily 5M" in page.text
    assert "Home 10M" not in page.text and "Home 20M" not in page.text
    assert 'name="ip_address"' not in page.text


def test_a_taken_address_is_refused_with_cores_message_and_nothing_is_made(
    login: Callable[[str], TestClient], services: CoreServices, shop: Shop
) -> None:
    with services.unit_of_work(read_only=True) as uow:
        taken = uow.session.scalar(
            select(Customer.ip_address).where(Customer.account_number == shop.paid)
        )
    assert taken
    client = login("admin")
    before = _customers(services)
    answers = {**ANSWERS, "ip_address": taken}
    for step in ("service", "create"):
        refused = _step(client, step, **answers)
        assert refused.status_code == 400
        assert f"{taken} is already given to another customer" in refused.text
        # Back on the address step, with the answers kept.
        assert 'name="ip_address"' in refused.text and f'value="{taken}"' in refused.text
        assert 'value="Achieng Atieno"' in refused.text
    assert _customers(services) == before


@pytest.mark.parametrize(
    ("fields", "page_field", "message"),
    [
        ({"full_name": "  "}, "full_name", "A customer needs a name"),
        ({"phone": "12"}, "phone", "phone"),
        ({"plan": "Daily 5M"}, "plan", "plan is for hotspot"),
        ({"amount_kes": "lots"}, "amount_kes", "must be a whole number of shillings"),
        ({"payment_method": "barter"}, "payment_method", "payment method must be one of"),
        ({"payment_method": "mpesa"}, "payment_reference", "receipt number"),
    ],
)
def test_bad_answers_re_render_their_own_step_with_the_message(
    login: Callable[[str], TestClient],
    services: CoreServices,
    fields: dict[str, str],
    page_field: str,
    message: str,
) -> None:
    before = _customers(services)
    refused = _step(login("admin"), "create", **{**ANSWERS, **fields})
    assert refused.status_code == 400
    assert message.lower() in refused.text.lower()
    assert f'name="{page_field}"' in refused.text
    assert 'value="Achieng Atieno"' in refused.text or page_field == "full_name"
    assert _customers(services) == before


def test_unticked_boxes_on_the_payment_step_mean_no(
    login: Callable[[str], TestClient], services: CoreServices
) -> None:
    client = login("admin")
    answers = {k: v for k, v in ANSWERS.items() if k not in ("activate", "send_welcome")}
    review = _step(client, "payment", **{**answers, "payment_method": "", "amount_kes": ""})
    assert review.status_code == 200
    assert 'type="hidden" name="activate" value="no"' in review.text
    done = _step(
        client,
        "create",
        **{
            **answers,
            "payment_method": "",
            "amount_kes": "",
            "activate": "no",
            "send_welcome": "no",
        },
    )
    assert done.status_code == 303
    with services.unit_of_work(read_only=True) as uow:
        customer = uow.session.scalars(
            select(Customer).where(Customer.full_name == "Achieng Atieno")
        ).one()
        assert customer.status == "inactive"
        assert not uow.session.scalar(
            select(func.count(SmsMessage.id)).where(SmsMessage.customer_id == customer.id)
        )


def test_search_re_renders_the_step_with_free_addresses_of_the_prefix(
    login: Callable[[str], TestClient],
) -> None:
    client = login("admin")
    found = _step(client, "search", **{**ANSWERS, "ip_prefix": "10.10.0"})
    assert found.status_code == 200
    assert "<code>10.10.0.4</code>" in found.text and 'value="Achieng Atieno"' in found.text
    bad = _step(client, "search", **{**ANSWERS, "ip_prefix": "not-a-prefix"})
    assert bad.status_code == 400 and "is not a prefix" in bad.text
    outside = _step(client, "search", **{**ANSWERS, "ip_prefix": "192.168"})
    assert outside.status_code == 400 and "outside the pool" in outside.text


@pytest.mark.parametrize("prefix", ["", "10.10.0", "10.10.0.0/28", "10.10."])
def test_the_free_address_fragment_searches_a_prefix(
    login: Callable[[str], TestClient], prefix: str
) -> None:
    client = login("viewer")
    pool_id = _pool_id(login("admin"))
    fragment = client.get(
        f"/staff/pools/{pool_id}/free", params={"prefix": prefix}, headers={"HX-Request": "true"}
    )
    assert fragment.status_code == 200, fragment.text
    assert "<code>10.10.0.4</code>" in fragment.text and "<html" not in fragment.text
    page = client.get(f"/staff/pools/{pool_id}/free", params={"ip_prefix": prefix})
    assert page.status_code == 200 and "<html" in page.text and "10.10.0.4" in page.text


@pytest.mark.parametrize("prefix", ["abc", "10.10.0.999", "1.2.3.4.5", "::1", "x" * 300, "10/99"])
def test_garbage_prefixes_answer_400_not_500(
    login: Callable[[str], TestClient], prefix: str
) -> None:
    client = login("admin")
    pool_id = _pool_id(client)
    response = client.get(
        f"/staff/pools/{pool_id}/free", params={"prefix": prefix}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 400
    assert client.get("/staff/pools/999999/free").status_code == 404
    assert client.get("/staff/pools/abc/free").status_code == 404


@pytest.mark.parametrize("role", ["agent", "viewer"])
def test_agents_and_viewers_cannot_see_or_post_the_form(
    login: Callable[[str], TestClient], services: CoreServices, role: str
) -> None:
    client = login(role)
    assert client.get(NEW).status_code == 403
    dashboard = client.get("/staff/")
    before = _customers(services)
    posted = client.post(NEW, data={**form_tokens(dashboard.text), "step": "create", **ANSWERS})
    assert posted.status_code == 403
    assert _customers(services) == before


def test_without_a_session_the_form_redirects_to_login(
    anonymous: TestClient, services: CoreServices, shop: Shop
) -> None:
    before = _customers(services)
    for response in (
        anonymous.get(NEW),
        anonymous.post(NEW, data={"step": "create", **ANSWERS}),
        anonymous.get("/staff/pools/1/free?prefix=10.10.0"),
    ):
        assert response.status_code == 303
        assert response.headers["location"].startswith("/staff/login")
        assert "10.10.0" not in response.text
    assert _customers(services) == before


def test_a_post_without_the_csrf_token_changes_nothing(
    login: Callable[[str], TestClient], services: CoreServices
) -> None:
    before = _customers(services)
    assert login("owner").post(NEW, data={"step": "create", **ANSWERS}).status_code == 403
    assert _customers(services) == before


def test_an_unknown_step_is_a_400(login: Callable[[str], TestClient]) -> None:
    assert _step(login("admin"), "evil", **ANSWERS).status_code == 400


def test_a_taken_additional_account_number_is_refused_on_the_details_step(
    login: Callable[[str], TestClient], services: CoreServices, shop: Shop
) -> None:
    client = login("admin")
    before = _customers(services)
    refused = _step(client, "create", **{**ANSWERS, "account_number2": shop.paid})
    assert refused.status_code == 400
    assert "already an account number of another customer" in refused.text
    assert 'name="account_number2"' in refused.text and 'name="full_name"' in refused.text
    assert _customers(services) == before
    done = _step(client, "create", **{**ANSWERS, "account_number2": "SHOP-7"})
    assert done.status_code == 303
    with services.unit_of_work(read_only=True) as uow:
        stored = uow.session.scalar(
            select(Customer.account_number2).where(Customer.full_name == "Achieng Atieno")
        )
    assert stored == "SHOP-7"


def test_choosing_another_network_searches_it(
    login: Callable[[str], TestClient], services: CoreServices
) -> None:
    with services.unit_of_work() as uow:
        pool = add_pool(uow, Actor.cli(), "core-1", "10.20.0.0/16")
        uow.commit()
        pool_id = pool.id
    page = _step(login("admin"), "search", **{**ANSWERS, "pool": str(pool_id)})
    assert page.status_code == 200
    assert f'hx-get="/staff/pools/{pool_id}/free"' in page.text
    assert "<code>10.20.0.2</code>" in page.text and "65,533" not in page.text
