"""The console on PostgreSQL, where SQLite's leniency hides problems: values the database
refuses (NUL, out-of-range numbers, over-long text) answer 400, never 500; parallel password
guesses cannot get past the limit; a form sent twice at once acts once."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from sqlalchemy import func, select
from starlette.testclient import TestClient

from core.actors import Actor
from core.models import Payment, StaffLoginFailure
from core.unit_of_work import CoreServices
from core.usecases.staff_access import MAX_FAILURES, password_login, set_password
from tests.unit.web.conftest import Shop, csrf_of, form_tokens

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.parametrize("database_url", ["postgresql"], indirect=True),
]


@pytest.mark.parametrize(
    "path",
    [
        "/staff/routers/a%00b",
        "/staff/pools/99999999999999999999/free",
        "/staff/tickets/99999999999999999999",
        "/staff/customers?q=%00",
    ],
)
def test_values_the_database_refuses_are_not_500s(login: Any, shop: Shop, path: str) -> None:
    assert login("owner").get(path).status_code in (400, 404)


def test_an_over_long_plan_name_is_refused_in_words(login: Any, shop: Shop) -> None:
    owner = login("owner")
    page = owner.get("/staff/plans")
    refused = owner.post(
        "/staff/plans",
        data={
            **form_tokens(page.text),
            "name": "x" * 70,
            "connection_type": "pppoe",
            "price_kes": "1000",
            "download": "10M",
            "upload": "5M",
            "validity_days": "30",
        },
    )
    assert refused.status_code == 400


def test_a_nul_in_the_login_name_is_refused(anonymous: TestClient, shop: Shop) -> None:
    page = anonymous.get("/staff/login")
    refused = anonymous.post(
        "/staff/login", data={"csrf": csrf_of(page.text), "name": "a\x00b", "password": "x"}
    )
    assert refused.status_code == 400


def test_parallel_wrong_passwords_stop_at_the_limit(services: CoreServices, shop: Shop) -> None:
    with services.unit_of_work() as uow:
        set_password(uow, Actor.cli(), "Amina", "the right password")
        uow.commit()
    start = threading.Barrier(12)

    def guess() -> None:
        start.wait()
        with services.unit_of_work() as uow:
            password_login(uow, "Amina Owner", "a wrong guess", "203.0.113.9")
            uow.commit()

    threads = [threading.Thread(target=guess) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with services.unit_of_work() as uow:
        stored = uow.session.scalar(select(func.count()).select_from(StaffLoginFailure))
    assert stored == MAX_FAILURES


def test_one_payment_form_sent_twice_at_once_records_one_payment(
    login: Any, services: CoreServices, shop: Shop
) -> None:
    agent = login("agent")
    page = agent.get(f"/staff/customers/{shop.unpaid}")
    form = {**form_tokens(page.text), "amount": "1500", "method": "cash", "activate": "1"}
    start = threading.Barrier(2)
    answers: list[int] = []

    def send() -> None:
        start.wait()
        answers.append(agent.post(f"/staff/customers/{shop.unpaid}/pay", data=form).status_code)

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answers == [303, 303]
    with services.unit_of_work() as uow:
        assert uow.session.scalar(select(func.count()).select_from(Payment)) == 2  # seed + 1
