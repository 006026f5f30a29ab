"""The Add Customer form checked part by part (for forms that ask in several pages), and the
additional account number given when a customer is added (17)."""

from __future__ import annotations

from typing import Any

import pytest

from core.errors import (
    AddressUnavailable,
    Conflict,
    InvalidInput,
    InvalidPhone,
    PermissionDenied,
    PlanMismatch,
)
from core.pools import free_addresses_of_pool, pool_lines
from core.usecases.customer_form import FormPart, check_new_customer
from core.usecases.customers import NewCustomer
from core.usecases.network import set_plan_pools


def _form(**fields: Any) -> NewCustomer:
    values: dict[str, Any] = {
        "full_name": "Wanjiku Kamau",
        "phone": "0712345678",
        "connection_type": "pppoe",
        "plan": "Home 10M",
        "router": "core-1",
    }
    values.update(fields)
    return NewCustomer(**values)


def test_a_good_form_passes_every_part(services, staff, isp) -> None:
    with services.unit_of_work(read_only=True) as uow:
        for part in FormPart:
            check_new_customer(uow, staff, _form(), part)


@pytest.mark.parametrize(
    ("part", "fields", "error"),
    [
        (FormPart.TYPE, {"connection_type": "fibre"}, InvalidInput),
        (FormPart.DETAILS, {"full_name": "  "}, InvalidInput),
        (FormPart.DETAILS, {"phone": "12"}, InvalidPhone),
        (FormPart.DETAILS, {"account_number2": "no spaces allowed"}, InvalidInput),
        (FormPart.SERVICE, {"connection_type": "hotspot"}, PlanMismatch),
        (FormPart.SERVICE, {"plan": ""}, InvalidInput),
        (FormPart.SERVICE, {"ip_address": "10.10.0.1"}, AddressUnavailable),
        (FormPart.PAYMENT, {"amount_kes": 100}, InvalidInput),
        (FormPart.PAYMENT, {"payment_method": "mpesa"}, InvalidInput),
        (FormPart.PAYMENT, {"payment_method": "cash", "amount_kes": 0}, InvalidInput),
        (FormPart.PAYMENT, {"installation_fee_kes": -1}, InvalidInput),
    ],
)
def test_each_part_refuses_what_create_customer_refuses(
    services, staff, isp, part, fields, error
) -> None:
    with services.unit_of_work(read_only=True) as uow, pytest.raises(error):
        check_new_customer(uow, staff, _form(**fields), part)


def test_a_taken_address_and_a_taken_second_account_number_are_refused(
    services, staff, make_customer, view
) -> None:
    first = make_customer(ip_address="10.10.0.3", account_number2="SHOP-1")
    assert view(first).account_number2 == "SHOP-1"
    with services.unit_of_work(read_only=True) as uow:
        with pytest.raises(AddressUnavailable, match="already given"):
            check_new_customer(uow, staff, _form(ip_address="10.10.0.3"), FormPart.SERVICE)
        with pytest.raises(Conflict):
            check_new_customer(uow, staff, _form(account_number2="shop-1"), FormPart.DETAILS)


def test_only_staff_who_add_customers_may_check_the_form(services, agent, isp) -> None:
    with services.unit_of_work(read_only=True) as uow, pytest.raises(PermissionDenied):
        check_new_customer(uow, agent, _form(), FormPart.TYPE)


def test_pool_lines_count_used_and_free_addresses_and_the_plans_naming_them(
    services, staff, run, make_customer
) -> None:
    make_customer(ip_address="10.10.0.4")
    run(set_plan_pools, staff, "Home 20M", ["10.10.0.0/29"])
    with services.unit_of_work(read_only=True) as uow:
        [line] = pool_lines(uow)
        assert (line.router, line.cidr, line.used, line.free) == ("core-1", "10.10.0.0/29", 1, 4)
        assert line.plans == ["Home 20M"]
        assert pool_lines(uow, "no-such-router") == []
        free = free_addresses_of_pool(uow, staff, line.id, prefix="10.10.0")
        assert free.addresses == ["10.10.0.2", "10.10.0.3", "10.10.0.5", "10.10.0.6"]
