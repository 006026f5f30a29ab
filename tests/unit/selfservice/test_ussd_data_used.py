"""USSD "My account" shows the data used this period when the plan has a data cap (and only then),
in the phone's language, within a screen's 160 characters."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from core.actors import Actor
from core.models import Customer, UsagePeriod
from core.testing import TEST_EPOCH
from core.unit_of_work import CoreServices
from core.usecases.plans import PlanSpec, add_plan
from core.usecases.preferences import set_language

PHONE = "+254711222333"
Dial = Callable[..., list[str]]


@pytest.fixture
def capped_customer(
    services: CoreServices, staff: Actor, subscribers: object, make_customer: Callable[..., int]
) -> int:
    with services.unit_of_work() as uow:
        add_plan(
            uow,
            staff,
            PlanSpec("Home 10M Capped", "pppoe", 1200, "10M", "5M", 30, None, 50_000, "1M"),
        )
        uow.commit()
    customer_id = make_customer(PHONE, paid=1500, plan="Home 10M Capped")
    with services.unit_of_work() as uow:
        period = uow.session.get(UsagePeriod, customer_id)
        assert period is not None  # the first renewal started it
        period.download_bytes, period.upload_bytes = 38_000_000_000, 2_500_000_000
        uow.commit()
    return customer_id


def test_my_account_shows_data_used_of_the_cap(dial: Dial, capped_customer: int) -> None:
    _, account = dial(PHONE, "1")
    assert "\nData: 40.5 GB of 50 GB\n0. Back" in account
    assert "Credit: KES 300" in account


def test_in_kiswahili_and_once_the_cap_is_reached(
    dial: Dial, services: CoreServices, capped_customer: int
) -> None:
    with services.unit_of_work() as uow:
        set_language(uow, PHONE, "sw")
        customer = uow.session.get(Customer, capped_customer)
        assert customer is not None
        customer.data_capped_at = TEST_EPOCH
        uow.commit()
    _, account = dial(PHONE, "1")
    assert "\nData: 40.5 GB kati ya 50 GB (kikomo)\n0. Rudi" in account


def test_no_data_line_without_a_cap(dial: Dial, subscribers: object) -> None:
    _, account = dial("+254712345678", "1")
    assert "Data" not in account
