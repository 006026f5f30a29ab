"""``POST /sms/inbound``: each keyword does its job and the reply is queued as SMS, in the
keyword's language (or the phone's, for STOP/START and unknown text)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from core.events import SmsQueued, StkPushRequested
from core.models import InboundSms, PhonePreference, SmsMessage, StkRequest
from core.ports import RecordingDispatcher
from core.unit_of_work import CoreServices
from core.usecases.preferences import set_language

WANJIKU = "+254712345678"
OTIENO = "+254722000111"
STRANGER = "+254733999888"

Text = Callable[..., int]


@pytest.fixture
def last_reply(stored) -> Callable[[], SmsMessage]:
    def read() -> SmsMessage:
        messages = stored(SmsMessage)
        assert messages, "no reply was queued"
        return messages[-1]

    return read


@pytest.mark.parametrize(
    ("text", "reply"),
    [
        ("STATUS", "MTJ-{n}: Home 10M, active, until 2026-12-22 12:00. Credit: KES 500."),
        ("hali", "MTJ-{n}: Home 10M, inatumika, hadi 2026-12-22 12:00. Salio: KES 500."),
        (
            "details",
            "Pay Kasarani Net by M-Pesa: paybill 174379, account MTJ-{n}. "
            "KES 1,000 renews Home 10M.",
        ),
        (
            "MAELEZO",
            "Lipa Kasarani Net kwa M-Pesa: paybill 174379, akaunti MTJ-{n}. "
            "KES 1,000 inalipia Home 10M.",
        ),
        (
            "help",
            "Kasarani Net: send STATUS for your account, PAY or PAY 500 to pay by M-Pesa, "
            "DETAILS for payment details, STOP/START for reminders.",
        ),
        (
            "msaada",
            "Kasarani Net: tuma HALI kuona akaunti, LIPA au LIPA 500 kulipa kwa M-Pesa, "
            "MAELEZO kwa maelezo ya malipo, STOP/START kwa vikumbusho.",
        ),
        (
            "what is my balance?",
            "Kasarani Net: send STATUS for your account, PAY or PAY 500 to "
            "pay by M-Pesa, DETAILS for payment details, STOP/START for reminders.",
        ),
    ],
)
def test_keywords_are_answered_by_sms(
    text_sms: Text, last_reply, customer_row, subscribers, text: str, reply: str
):
    number = customer_row(subscribers.wanjiku).account_number.removeprefix("MTJ-")
    assert text_sms(WANJIKU, text) == 200
    message = last_reply()
    assert message.phone == WANJIKU
    assert message.status == "queued"
    assert message.body == reply.format(n=number)
    assert message.customer_id == subscribers.wanjiku


def test_pay_queues_an_stk_push_for_what_renews(
    text_sms: Text, last_reply, stored, dispatcher: RecordingDispatcher, subscribers
):
    assert text_sms(WANJIKU, "PAY") == 200
    (request,) = stored(StkRequest)
    assert (request.amount_kes, request.channel, request.phone) == (1000, "sms", WANJIKU)
    assert dispatcher.of_type(StkPushRequested) == [StkPushRequested(request.id)]
    assert last_reply().body.startswith("Check your phone for the M-Pesa PIN prompt: KES 1,000")


def test_lipa_with_an_amount_answers_in_kiswahili(text_sms: Text, last_reply, stored, subscribers):
    assert text_sms(WANJIKU, "lipa 300") == 200
    assert [r.amount_kes for r in stored(StkRequest)] == [300]
    assert last_reply().body.startswith("Angalia simu yako uweke PIN ya M-Pesa: KES 300")


@pytest.mark.parametrize(
    ("text", "reply"),
    [
        ("pay lots", "Send PAY with a whole amount from KES 1 to 250,000, e.g. PAY 500."),
        # 15.2: the minus sign was dropped and a prompt for KES 50 was sent.
        ("PAY -50", "Send PAY with a whole amount from KES 1 to 250,000, e.g. PAY 500."),
        ("lipa -50", "Tuma LIPA na kiasi kamili kati ya KES 1 na 250,000, mfano LIPA 500."),
    ],
)
def test_pay_with_a_bad_amount_explains_and_pays_nothing(
    text_sms: Text, last_reply, stored, subscribers, text: str, reply: str
):
    text_sms(WANJIKU, text)
    assert last_reply().body == reply
    assert stored(StkRequest) == []


def test_several_accounts_must_say_which(
    text_sms: Text, last_reply, stored, customer_row, subscribers
):
    shop = customer_row(subscribers.otieno_shop).account_number
    text_sms(OTIENO, "pay 100")
    assert last_reply().body.startswith("You have several accounts. Send PAY with the account")
    assert stored(StkRequest) == []
    text_sms(OTIENO, f"pay 100 {shop.lower()}")
    (request,) = stored(StkRequest)
    assert (request.customer_id, request.amount_kes) == (subscribers.otieno_shop, 100)


def test_status_of_several_accounts_lists_each(text_sms: Text, last_reply, subscribers):
    text_sms(OTIENO, "status")
    lines = last_reply().body.splitlines()
    assert len(lines) == 2
    assert lines[0].endswith("Home 10M, not started. Balance: KES 0.")
    assert lines[1].endswith("Daily 5M, not started. Balance: KES 0.")


def test_an_account_of_another_phone_is_not_revealed(
    text_sms: Text, last_reply, customer_row, stored, subscribers
):
    wanjiku = customer_row(subscribers.wanjiku).account_number
    text_sms(OTIENO, f"pay 100 {wanjiku}")
    body = last_reply().body
    assert body.startswith(f"{wanjiku} is not one of this phone's accounts:")
    assert "Home 10M, active" not in body
    assert stored(StkRequest) == []


def test_an_unregistered_phone_is_told_whom_to_call(text_sms: Text, last_reply, subscribers):
    text_sms(STRANGER, "status")
    assert last_reply().body == (
        "This phone is not registered with Kasarani Net. For help call 0700 000001."
    )
    assert last_reply().customer_id is None


@pytest.mark.parametrize(("stop", "start"), [("STOP", "START"), ("simamisha", "anza")])
def test_stop_and_start_switch_reminders_for_the_phone(
    text_sms: Text, last_reply, stored, subscribers, stop: str, start: str
):
    text_sms(WANJIKU, stop)
    (preference,) = stored(PhonePreference)
    assert preference.reminders_enabled is False
    assert "no more expiry reminders" in last_reply().body or "Hutapata" in last_reply().body
    text_sms(WANJIKU, start)
    (preference,) = stored(PhonePreference)
    assert preference.reminders_enabled is True


def test_stop_answers_in_the_phones_language(
    text_sms: Text, last_reply, services: CoreServices, subscribers
):
    with services.unit_of_work() as uow:
        set_language(uow, WANJIKU, "sw")
        uow.commit()
    text_sms(WANJIKU, "STOP")
    assert last_reply().body.startswith("Hutapata tena vikumbusho")


def test_every_inbound_message_is_kept_with_its_command(text_sms: Text, stored, subscribers):
    text_sms(WANJIKU, "hali", "ATXin-1")
    text_sms(STRANGER, "habari", "ATXin-2")
    first, second = stored(InboundSms)
    assert (first.provider_id, first.phone, first.text, first.command, first.customer_id) == (
        "ATXin-1",
        WANJIKU,
        "hali",
        "status",
        subscribers.wanjiku,
    )
    assert (second.command, second.customer_id, second.short_code) == ("unknown", None, "22384")


def test_a_repeated_callback_is_answered_once(
    text_sms: Text, stored, dispatcher: RecordingDispatcher, subscribers
):
    assert text_sms(WANJIKU, "status", "ATXin-7") == 200
    assert text_sms(WANJIKU, "status", "ATXin-7") == 200
    assert len(stored(InboundSms)) == 1
    assert len(stored(SmsMessage)) == 1
    assert len(dispatcher.of_type(SmsQueued)) == 1


def test_replies_to_one_phone_are_capped(text_sms: Text, stored, subscribers):
    for _ in range(10):
        assert text_sms(WANJIKU, "help") == 200
    assert len(stored(InboundSms)) == 10
    assert len(stored(SmsMessage)) == 6


@pytest.mark.parametrize(
    "form",
    [
        {},
        {"text": "STATUS"},
        {"from": "", "text": "STATUS"},
        {"from": "not a phone", "text": "STATUS"},
        {"from": WANJIKU},
        {"from": WANJIKU, "text": "x" * 2001},
        {"from": WANJIKU, "text": "STATUS", "id": "i" * 65},
    ],
)
def test_a_request_without_its_fields_is_refused_and_changes_nothing(
    client, row_counts, subscribers, form: dict[str, str]
):
    before = row_counts()
    response = client.post("/sms/inbound", data=form)
    assert response.status_code == 400
    assert row_counts() == before


def test_a_body_that_is_no_form_is_refused(client, row_counts, subscribers):
    before = row_counts()
    for body in (b"\xff\xfe\x00", b'{"from": "+254712345678", "text": "STATUS"}', b"a" * 20000):
        response = client.post("/sms/inbound", content=body)
        assert response.status_code == 400
    assert row_counts() == before
