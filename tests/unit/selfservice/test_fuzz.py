"""Whatever Africa's Talking (or anyone) posts to /ussd, /sms/inbound and /sms/delivery: never a
500, and a rejected request (4xx, a wrong answer, a screen that only shows) writes nothing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.models import SmsMessage
from core.usecases.sms import queue_sms

# Hypothesis runs hundreds of examples: seconds to a minute; CI runs them, the edit loop skips them.
pytestmark = pytest.mark.slow

WANJIKU = "+254712345678"
OTIENO = "+254722000111"

phones = st.sampled_from(
    [WANJIKU, OTIENO, "0712345678", "+254733999888", "", "+", "abc"]
) | st.text(max_size=25)
answer = st.sampled_from(
    ["0", "00", "1", "2", "3", "4", "5", "6", "7", "98", "", " ", "abc", "1,500", "700", "٣"]
) | st.text(max_size=6)
answer_paths = st.lists(answer, max_size=8).map("*".join) | st.text(max_size=60)
extra_fields = st.dictionaries(st.text(max_size=12), st.text(max_size=30), max_size=4)
raw_bodies = st.binary(max_size=400)

# What a finishing answer may say when it did write something.
ACTION_REPLIES = (
    "END Check your phone",
    "END Done.",
    "END We have sent the payment details",
    "END Thank you. Ticket",
    "END Language set",
    "END Lugha imewekwa",
    "END Angalia simu",
    "END Imekamilika.",
    "END Tumekutumia",
    "END Asante. Tiketi",
)
FUZZ = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def maybe(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.none() | strategy


def form_of(**fields: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, str]]:
    """A form with each field present or missing, plus unknown fields."""
    parts = st.fixed_dictionaries({name: maybe(value) for name, value in fields.items()})
    return st.tuples(parts, extra_fields).map(
        lambda both: {**both[1], **{k: v for k, v in both[0].items() if v is not None}}
    )


ussd_forms = form_of(
    sessionId=st.text(max_size=20),
    serviceCode=st.just("*384*1234#") | st.text(max_size=10),
    phoneNumber=phones,
    networkCode=st.text(max_size=6),
    text=answer_paths,
)


@FUZZ
@given(form=ussd_forms, raw=maybe(raw_bodies))
def test_ussd_never_fails_and_writes_only_on_a_finishing_answer(
    client, row_counts, subscribers, form: dict[str, str], raw: bytes | None
):
    before = row_counts()
    if raw is not None:
        response = client.post("/ussd", content=raw)
    else:
        response = client.post("/ussd", data=form)
    assert response.status_code in (200, 400), response.text
    body = response.text
    assert body.startswith(("CON ", "END ")) and len(body) <= 160
    if response.status_code != 200 or not body.startswith(ACTION_REPLIES):
        assert row_counts() == before, body


sms_forms = form_of(
    **{
        "from": phones,
        "to": st.text(max_size=25),
        "text": st.text(max_size=200)
        | st.sampled_from(["STATUS", "hali", "pay 500", "LIPA", "stop", "START", "details"]),
        "date": st.text(max_size=20),
        "id": st.text(max_size=70),
        "linkId": st.text(max_size=20),
        "networkCode": st.text(max_size=6),
    }
)


@FUZZ
@given(form=sms_forms, raw=maybe(raw_bodies))
def test_sms_inbound_never_fails_and_a_refusal_writes_nothing(
    client, row_counts, subscribers, form: dict[str, str], raw: bytes | None
):
    before = row_counts()
    if raw is not None:
        response = client.post("/sms/inbound", content=raw)
    else:
        response = client.post("/sms/inbound", data=form)
    assert response.status_code in (200, 400), response.text
    if response.status_code == 400:
        assert row_counts() == before


delivery_forms = form_of(
    id=st.sampled_from(["ATXid_known", "ATXid_other", ""]) | st.text(max_size=70),
    status=st.sampled_from(["Success", "Failed", "Rejected", "Sent", "Buffered", "Submitted"])
    | st.text(max_size=12),
    phoneNumber=phones,
    networkCode=st.text(max_size=6),
    failureReason=st.text(max_size=80),
    retryCount=st.text(max_size=4),
)


@pytest.fixture
def known_message(services) -> Callable[[], tuple[object, ...]]:
    """A sent message known to the provider as ATXid_known; returns a reader of its state."""
    with services.unit_of_work() as uow:
        message = queue_sms(uow, WANJIKU, "hello", "test")
        message.status = "sent"
        message.provider_message_id = "ATXid_known"
        uow.commit()
        message_id = message.id

    def state() -> tuple[object, ...]:
        with services.unit_of_work() as uow:
            stored = uow.session.get(SmsMessage, message_id)
            assert stored is not None
            return (stored.status, stored.error, stored.delivered_at)

    return state


@FUZZ
@given(form=delivery_forms, raw=maybe(raw_bodies))
def test_sms_delivery_never_fails_and_a_refusal_writes_nothing(
    client, row_counts, known_message, form: dict[str, str], raw: bytes | None
):
    before = (row_counts(), known_message())
    if raw is not None:
        response = client.post("/sms/delivery", content=raw)
    else:
        response = client.post("/sms/delivery", data=form)
    assert response.status_code in (200, 400), response.text
    if response.status_code == 400:
        assert (row_counts(), known_message()) == before
