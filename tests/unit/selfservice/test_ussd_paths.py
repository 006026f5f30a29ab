"""Every path of the USSD menu map (docs/ussd-menu.md), in English and in Kiswahili, for a phone
with one account. Each test dials a whole session through the real app, answer by answer."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest

from core.events import StkPushRequested, TicketOpened
from core.models import PhonePreference, SmsMessage, StkRequest, Ticket
from core.ports import RecordingDispatcher
from core.unit_of_work import CoreServices
from core.usecases.preferences import set_language

WANJIKU = "+254712345678"

WORDS = {
    "en": {
        "main": "1. My account\n2. Pay / renew\n3. Change package\n4. Payment details by SMS\n"
        "5. Report a problem\n6. Language",
        "account": "Acc MTJ-",
        "status_active": "Status: active",
        "status_expiring": "Status: ending soon",
        "credit": "Credit: KES 500",
        "pay": "Pay KES 1,000 to renew Home 10M (30 days)",
        "amount": "Enter the amount in KES:",
        "pay_confirm": "Pay KES 700 for MTJ-",
        "stk_sent": "END Check your phone for the M-Pesa PIN prompt: KES {amount} for MTJ-",
        "plans": "New package, from your next renewal:",
        "plan_confirm": "Change to Home 20M, KES 2,500 / 30 days, from your next renewal?",
        "plan_done": "END Done. Home 20M starts at your next renewal.",
        "next": "Next: Home 20M",
        "details_sent": "END We have sent the payment details to you by SMS.",
        "details_sms": "Pay Kasarani Net by M-Pesa: paybill 174379, account MTJ-",
        "ticket_menu": "What is the problem?\n1. No internet\n2. Slow internet\n3. Other",
        "ticket_opened": "END Thank you. Ticket #{ticket} is open",
        "language_menu": "Choose a language:\n1. English\n2. Kiswahili",
        "invalid": "CON Invalid choice.\n",
        "invalid_amount": "CON Enter a whole amount, KES 1 to 250,000.\n",
        "back": "0. Back",
        "more": "98. More",
        "validity": "30 days",
    },
    "sw": {
        "main": "1. Akaunti yangu\n2. Lipa / lipia upya\n3. Badilisha kifurushi\n"
        "4. Maelezo ya malipo kwa SMS\n5. Ripoti tatizo\n6. Lugha",
        "account": "Akaunti MTJ-",
        "status_active": "Hali: inatumika",
        "status_expiring": "Hali: inakaribia kuisha",
        "credit": "Salio: KES 500",
        "pay": "Lipa KES 1,000 kulipia Home 10M (siku 30)",
        "amount": "Weka kiasi kwa KES:",
        "pay_confirm": "Lipa KES 700 kwa MTJ-",
        "stk_sent": "END Angalia simu yako uweke PIN ya M-Pesa: KES {amount} kwa MTJ-",
        "plans": "Kifurushi kipya, ukilipia tena:",
        "plan_confirm": "Badilisha kuwa Home 20M, KES 2,500 / siku 30, utakapolipia tena?",
        "plan_done": "END Imekamilika. Home 20M itaanza utakapolipia tena.",
        "next": "Kijacho: Home 20M",
        "details_sent": "END Tumekutumia maelezo ya malipo kwa SMS.",
        "details_sms": "Lipa Kasarani Net kwa M-Pesa: paybill 174379, akaunti MTJ-",
        "ticket_menu": "Tatizo ni lipi?\n1. Hakuna intaneti\n2. Intaneti ni polepole\n3. Jingine",
        "ticket_opened": "END Asante. Tiketi #{ticket} imefunguliwa",
        "language_menu": "Chagua lugha:\n1. English\n2. Kiswahili",
        "invalid": "CON Chaguo si sahihi.\n",
        "invalid_amount": "CON Weka kiasi kamili, KES 1 hadi 250,000.\n",
        "back": "0. Rudi",
        "more": "98. Zaidi",
        "validity": "siku 30",
    },
}

Dial = Callable[..., list[str]]


@pytest.fixture(params=["en", "sw"])
def language(request: pytest.FixtureRequest, services: CoreServices, subscribers: object) -> str:
    """Each test runs once per language, the phone's remembered choice."""
    chosen: str = request.param
    if chosen == "sw":
        with services.unit_of_work() as uow:
            set_language(uow, WANJIKU, "sw")
            uow.commit()
    return chosen


@pytest.fixture
def words(language: str) -> dict[str, str]:
    return WORDS[language]


def test_first_screen_is_the_main_menu_under_the_isp_name(dial: Dial, words: dict[str, str]):
    (screen,) = dial(WANJIKU)
    assert screen == "CON Kasarani Net\n" + words["main"]


def test_my_account_shows_number_plan_status_expiry_and_credit(dial: Dial, words: dict[str, str]):
    _, account = dial(WANJIKU, "1")
    assert account.startswith("CON " + words["account"])
    assert "Home 10M" in account
    assert words["status_active"] in account
    assert "2026-12-22 12:00" in account  # 30 days from 12:00 Nairobi, shown in local time


def test_my_account_says_an_active_account_is_ending_soon(dial: Dial, words: dict[str, str], clock):
    """Issue 16.8: "expiring" (active, ending within MTEJA_EXPIRING_DAYS, 3 by default) is told
    to the subscriber as staff's lists and cards show it."""
    clock.advance(timedelta(days=27))  # three days left: the first instant it counts
    _, account = dial(WANJIKU, "1")
    assert words["status_expiring"] in account
    clock.advance(timedelta(days=3))  # ended: expiry's business, no longer "ending soon"
    _, account = dial(WANJIKU, "1")
    assert words["status_expiring"] not in account
    assert words["credit"] in account
    assert account.endswith(words["back"])


def test_pay_offers_what_renews_after_credit_and_queues_the_stk_push(
    dial: Dial, words: dict[str, str], stored: Callable[..., list], dispatcher: RecordingDispatcher
):
    _, pay, done = dial(WANJIKU, "2", "1")
    assert words["pay"] in pay
    assert done.startswith(words["stk_sent"].format(amount="1,000"))
    (request,) = stored(StkRequest)
    assert (request.phone, request.amount_kes, request.channel, request.status) == (
        WANJIKU,
        1000,
        "ussd",
        "queued",
    )
    assert request.requested_by == f"subscriber:{WANJIKU}"
    assert dispatcher.of_type(StkPushRequested) == [StkPushRequested(request.id)]


def test_pay_another_amount_is_confirmed_first(
    dial: Dial, words: dict[str, str], stored: Callable[..., list]
):
    _, _, amount, confirm, done = dial(WANJIKU, "2", "2", "700", "1")
    assert amount.startswith("CON " + words["amount"])
    assert words["pay_confirm"] in confirm
    assert stored(StkRequest) == [] or len(stored(StkRequest)) == 1
    assert done.startswith(words["stk_sent"].format(amount="700"))
    assert [r.amount_kes for r in stored(StkRequest)] == [700]


@pytest.mark.parametrize("typed", ["abc", "-5", "1.5", "300000", " ", "12345678"])
def test_a_wrong_amount_shows_the_amount_screen_again_with_a_note(
    dial: Dial, words: dict[str, str], stored: Callable[..., list], typed: str
):
    screens = dial(WANJIKU, "2", "2", typed)
    assert screens[-1].startswith(words["invalid_amount"])
    assert words["amount"] in screens[-1]
    assert stored(StkRequest) == []


def test_an_amount_with_a_thousands_comma_is_understood(dial: Dial, words: dict[str, str]):
    screens = dial(WANJIKU, "2", "2", "1,500")
    assert "1,500" in screens[-1]


def test_change_package_lists_plans_of_the_same_type_and_applies_at_renewal(
    dial: Dial, words: dict[str, str], customer_row: Callable, subscribers
):
    _, plans, confirm, done = dial(WANJIKU, "3", "1", "1")
    assert plans.startswith("CON " + words["plans"])
    assert "1. Home 20M KES 2,500/" + words["validity"] in plans
    assert "Daily" not in plans and "Home 10M" not in plans  # other type; the current one
    assert words["plan_confirm"] in confirm
    assert done == words["plan_done"]
    customer = customer_row(subscribers.wanjiku)
    assert customer.plan.name == "Home 10M"
    assert customer.pending_plan.name == "Home 20M"
    _, account = dial(WANJIKU, "1")
    assert words["next"] in account


def test_change_package_pages_with_98_and_back(dial: Dial, words: dict[str, str]):
    _, first, second, back = dial(WANJIKU, "3", "98", "0")
    assert words["more"] in first and "3. Home 50M" in first and "Home 100M" not in first
    assert "1. Home 100M" in second and "2. Home 200M" in second
    assert words["more"] not in second
    assert back == first


def test_choosing_a_plan_from_the_second_page(
    dial: Dial, words: dict[str, str], customer_row, subscribers
):
    screens = dial(WANJIKU, "3", "98", "2", "1")
    assert screens[-1] == words["plan_done"].replace("Home 20M", "Home 200M")
    assert customer_row(subscribers.wanjiku).pending_plan.name == "Home 200M"


def test_payment_details_go_by_sms_in_the_phones_language(
    dial: Dial, words: dict[str, str], stored: Callable[..., list]
):
    _, done = dial(WANJIKU, "4")
    assert done == words["details_sent"]
    (sms,) = stored(SmsMessage)
    assert sms.phone == WANJIKU and sms.status == "queued"
    assert sms.body.startswith(words["details_sms"])
    assert "KES 1,000" in sms.body


@pytest.mark.parametrize(
    ("choice", "category"), [("1", "no_internet"), ("2", "slow"), ("3", "other")]
)
def test_report_a_problem_opens_a_ticket_and_alerts_staff(
    dial: Dial,
    words: dict[str, str],
    stored: Callable[..., list],
    dispatcher: RecordingDispatcher,
    choice: str,
    category: str,
    subscribers,
):
    _, menu, done = dial(WANJIKU, "5", choice)
    assert words["ticket_menu"] in menu
    (ticket,) = stored(Ticket)
    assert (ticket.customer_id, ticket.category, ticket.channel, ticket.status) == (
        subscribers.wanjiku,
        category,
        "ussd",
        "open",
    )
    assert done.startswith(words["ticket_opened"].format(ticket=ticket.id))
    assert dispatcher.of_type(TicketOpened) == [TicketOpened(ticket.id)]


@pytest.mark.parametrize(
    ("choice", "chosen", "confirmation"),
    [
        ("1", "en", "END Language set to English."),
        ("2", "sw", "END Lugha imewekwa: Kiswahili."),
    ],
)
def test_language_is_remembered_for_the_phone(
    dial: Dial,
    words: dict[str, str],
    stored: Callable[..., list],
    choice: str,
    chosen: str,
    confirmation: str,
):
    _, menu, done = dial(WANJIKU, "6", choice)
    assert words["language_menu"] in menu
    assert done == confirmation
    (preference,) = stored(PhonePreference)
    assert preference.language == chosen
    (main,) = dial(WANJIKU)
    assert main.endswith(WORDS[chosen]["main"])


@pytest.mark.parametrize(
    "path",
    [
        ["7"],
        ["1", "5"],
        ["2", "3"],
        ["2", "2", "700", "2"],
        ["3", "9"],
        ["3", "1", "2"],
        ["5", "4"],
        ["6", "3"],
        ["abc"],
        [" "],
        ["98"],
    ],
)
def test_a_wrong_choice_shows_the_same_screen_with_a_note(
    dial: Dial, words: dict[str, str], path: list[str], row_counts: Callable[[], dict]
):
    before = row_counts()
    screens = dial(WANJIKU, *path)
    again, previous = screens[-1], screens[-2]
    assert again.startswith(words["invalid"])
    # The same screen below the note (its first line may be shortened to make room for it).
    assert again.splitlines()[2:] == previous.splitlines()[1:]
    assert row_counts() == before


@pytest.mark.parametrize(
    "path", [["1"], ["2"], ["2", "2"], ["3"], ["3", "1"], ["5"], ["6"], ["2", "2", "700"]]
)
def test_back_goes_to_the_previous_screen(dial: Dial, path: list[str]):
    screens = dial(WANJIKU, *path, "0")
    assert screens[-1] == screens[-3]


@pytest.mark.parametrize("path", [["1"], ["2", "2", "700"], ["3", "98", "1"], ["5"], ["9", "6"]])
def test_double_zero_goes_to_the_main_menu(dial: Dial, path: list[str], words: dict[str, str]):
    screens = dial(WANJIKU, *path, "00")
    assert screens[-1] == "CON Kasarani Net\n" + words["main"]


def test_back_on_the_main_menu_stays_there(dial: Dial, words: dict[str, str]):
    screens = dial(WANJIKU, "0", "0")
    assert screens[-1] == screens[0]


def test_navigation_then_action_acts_once_on_the_last_answer(
    dial: Dial, words: dict[str, str], stored: Callable[..., list]
):
    screens = dial(WANJIKU, "1", "0", "9", "3", "00", "2", "2", "50", "0", "60", "1")
    assert screens[-1].startswith(words["stk_sent"].format(amount="60"))
    assert [r.amount_kes for r in stored(StkRequest)] == [60]
