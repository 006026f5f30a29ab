"""Which accounts a caller sees: several accounts choose one first, an unregistered phone is told
whom to call, and nobody sees or acts on an account registered to another phone."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from core.actors import Actor
from core.errors import CustomerNotFound
from core.models import StkRequest, Ticket
from core.unit_of_work import CoreServices
from core.usecases import selfservice
from core.usecases.customers import delete_customer
from core.usecases.preferences import set_language
from core.usecases.service import suspend
from core.usecases.tickets import TicketCategory, open_ticket

WANJIKU = "+254712345678"
OTIENO = "+254722000111"
STRANGER = "+254733999888"

Dial = Callable[..., list[str]]


def test_a_phone_with_two_accounts_chooses_one_first(dial: Dial, subscribers):
    chooser, main = dial(OTIENO, "2")
    lines = chooser.splitlines()
    assert lines[0] == "CON Choose an account:"
    assert lines[1].startswith("1. MTJ-") and lines[1].endswith("Home 10M")
    assert lines[2].startswith("2. MTJ-") and lines[2].endswith("Daily 5M")
    account = lines[2].split()[1]
    assert main.splitlines()[0] == f"CON {account}"
    assert main.endswith("6. Language\n0. Back")


def test_the_chosen_account_is_the_one_acted_on(dial: Dial, stored, subscribers):
    screens = dial(OTIENO, "2", "2", "1")
    assert "Daily 5M" in screens[-2] and "KES 50 " in screens[-2]
    (request,) = stored(StkRequest)
    assert request.customer_id == subscribers.otieno_shop
    assert request.amount_kes == 50


def test_hotspot_account_sees_only_hotspot_packages(dial: Dial, subscribers):
    plans = dial(OTIENO, "2", "3")[-1]
    assert "1. Weekly 5M KES 300/7 days" in plans
    assert "Home" not in plans


def test_back_from_an_accounts_main_menu_returns_to_the_chooser(dial: Dial, subscribers):
    screens = dial(OTIENO, "1", "0")
    assert screens[-1] == screens[0]


def test_double_zero_returns_to_the_chosen_accounts_main_menu(dial: Dial, subscribers):
    screens = dial(OTIENO, "1", "1", "00")
    assert screens[-1] == screens[1]


def test_a_wrong_account_number_shows_the_chooser_again(dial: Dial, subscribers):
    screens = dial(OTIENO, "3")
    assert screens[-1].startswith("CON Invalid choice.\nChoose an account:")


def test_many_accounts_are_listed_five_at_a_time(dial: Dial, make_customer, subscribers):
    for number in range(5):
        make_customer(OTIENO, full_name=f"Otieno flat {number}")
    first, second, main = dial(OTIENO, "98", "2")
    assert first.splitlines()[-1] == "98. More"
    assert first.count("\n") == 6  # header, 5 accounts, More
    assert second.splitlines()[1].startswith("1. MTJ-")
    assert second.splitlines()[-1] == "0. Back"
    assert main.splitlines()[0] == "CON " + second.splitlines()[2].split()[1]


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("en", "END This phone is not registered with Kasarani Net. For help call 0700 000001."),
        ("sw", "END Simu hii haijasajiliwa na Kasarani Net. Kwa msaada piga 0700 000001."),
    ],
)
def test_an_unregistered_phone_is_told_how_to_reach_the_isp(
    dial: Dial, services: CoreServices, subscribers, language: str, expected: str, row_counts
):
    if language == "sw":
        with services.unit_of_work() as uow:
            set_language(uow, STRANGER, "sw")
            uow.commit()
    before = row_counts()
    assert dial(STRANGER) == [expected]
    assert dial(STRANGER, "1")[-1] == expected
    assert row_counts() == before


def test_an_unreadable_phone_number_is_treated_as_unregistered(ussd, subscribers):
    assert ussd("not-a-phone", "2*1").startswith("END This phone is not registered")


def test_phone_number_forms_are_normalized(ussd, subscribers):
    assert ussd("254712345678", "").startswith("CON Kasarani Net")
    assert ussd("0712345678", "").startswith("CON Kasarani Net")


def test_a_deleted_account_is_not_offered(
    dial: Dial, services: CoreServices, staff: Actor, subscribers
):
    with services.unit_of_work() as uow:
        delete_customer(uow, subscribers.otieno_home, staff)
        uow.commit()
    (main,) = dial(OTIENO)
    assert main.startswith("CON Kasarani Net\n1. My account")  # one account left: no chooser


def test_an_account_is_never_reached_through_another_phone(ussd, stored, subscribers):
    # Wanjiku has one account; "2*1" can only ever mean her own.
    assert ussd(WANJIKU, "2*1").startswith("END Check your phone")
    (request,) = stored(StkRequest)
    assert request.customer_id == subscribers.wanjiku
    # Otieno choosing "3" (a third account he does not have) gets nothing of anyone's.
    assert ussd(OTIENO, "3").startswith("CON Invalid choice.\nChoose an account:")


@pytest.mark.parametrize(
    "use_case",
    [
        lambda uow, phone, cid: selfservice.phone_overview(uow, phone).summary(cid),
        lambda uow, phone, cid: selfservice.pay_by_mpesa(uow, phone, cid, None, "ussd"),
        lambda uow, phone, cid: selfservice.plan_choices(uow, phone, cid),
        lambda uow, phone, cid: selfservice.send_payment_details(uow, phone, cid, "en"),
        lambda uow, phone, cid: open_ticket(uow, phone, cid, TicketCategory.SLOW, "ussd"),
    ],
)
def test_core_refuses_an_account_of_another_phone(
    services: CoreServices, subscribers, use_case, row_counts
):
    before = row_counts()
    with services.unit_of_work() as uow, pytest.raises(CustomerNotFound):
        use_case(uow, OTIENO, subscribers.wanjiku)
    assert row_counts() == before


def test_a_suspended_account_is_told_to_call_instead_of_paying(
    dial: Dial, services: CoreServices, staff: Actor, stored, subscribers
):
    with services.unit_of_work() as uow:
        suspend(uow, subscribers.wanjiku, staff, "non-payment")
        uow.commit()
    screens = dial(WANJIKU, "2")
    assert screens[-1].startswith("END Account MTJ-")
    assert "is suspended. Please call 0700 000001." in screens[-1]
    assert "Status: suspended" in dial(WANJIKU, "1")[-1]
    assert stored(StkRequest) == []


def test_no_other_package_ends_the_session_politely(
    dial: Dial, services: CoreServices, staff: Actor, make_customer
):
    from core.usecases.network import RouterSpec, add_pool, add_router
    from core.usecases.plans import PlanSpec, add_plan

    with services.unit_of_work() as uow:
        add_router(
            uow, staff, RouterSpec("core-1", "127.0.0.1", 8728, "admin", "secret", plain_api=True)
        )
        add_pool(uow, staff, "core-1", "10.20.0.0/28")
        add_plan(uow, staff, PlanSpec("Home 10M", "pppoe", 1500, "10M", "5M", validity_days=30))
        uow.commit()
    make_customer(WANJIKU)
    assert dial(WANJIKU, "3")[-1] == (
        "END There is no other package for your connection. Call 0700 000001."
    )


def test_answers_after_a_finished_session_do_nothing(ussd, stored, row_counts, subscribers):
    before = row_counts()
    assert ussd(WANJIKU, "5*1*1") == "END This session has ended. Please dial again."
    assert ussd(WANJIKU, "2*1*1*1") == "END This session has ended. Please dial again."
    assert row_counts() == before
    assert stored(Ticket) == []


def test_a_very_long_session_is_ended_without_acting(ussd, row_counts, subscribers):
    before = row_counts()
    assert ussd(WANJIKU, "*".join(["1", "0"] * 30) + "*4").startswith("END This session has ended")
    assert row_counts() == before


def test_callers_outside_the_allowed_addresses_are_refused(services: CoreServices, subscribers):
    import ipaddress

    from starlette.testclient import TestClient

    from web.app import WebConfig, create_app

    config = WebConfig(africastalking_networks=(ipaddress.ip_network("10.0.0.0/8"),))
    with TestClient(create_app(services, config)) as client:
        form = {"sessionId": "s", "phoneNumber": WANJIKU, "text": ""}
        assert client.post("/ussd", data=form).status_code == 403
        assert client.post("/sms/inbound", data={"from": WANJIKU, "text": "x"}).status_code == 403
        assert (
            client.post("/sms/delivery", data={"id": "a", "status": "Success"}).status_code == 403
        )
