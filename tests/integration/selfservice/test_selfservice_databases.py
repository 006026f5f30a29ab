"""The self-service routes on a SQLite file and on PostgreSQL after the real migrations: the
menu and keywords work, and whatever is posted (NUL bytes, huge fields, stray unicode) never
makes the database refuse a write with a 500."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from alembic import command
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from core.db import alembic_config
from core.models import InboundSms, PhonePreference, SmsMessage, StkRequest, Ticket
from core.unit_of_work import CoreServices
from web.app import create_app

WANJIKU = "+254712345678"


@pytest.fixture
def client(db_services: CoreServices, isp) -> Iterator[TestClient]:
    with TestClient(create_app(db_services)) as test_client:
        yield test_client


@pytest.fixture
def ussd(client: TestClient) -> Callable[[str, str], str]:
    def request(phone: str, text: str) -> str:
        response = client.post(
            "/ussd",
            data={"sessionId": "s", "serviceCode": "*384#", "phoneNumber": phone, "text": text},
        )
        assert response.status_code == 200
        assert len(response.text) <= 160
        return response.text

    return request


def test_every_action_of_the_menu_writes_on_this_database(ussd, stored, isp):
    assert ussd(WANJIKU, "2*2*200*1").startswith("END Check your phone")
    assert ussd(WANJIKU, "3*1*1") == "END Done. Home 20M starts at your next renewal."
    assert ussd(WANJIKU, "4") == "END We have sent the payment details to you by SMS."
    assert ussd(WANJIKU, "5*3").startswith("END Thank you. Ticket #")
    assert ussd(WANJIKU, "6*2") == "END Lugha imewekwa: Kiswahili."
    assert "Kijacho: Home 20M" in ussd(WANJIKU, "1")
    assert [r.amount_kes for r in stored(StkRequest)] == [200]
    assert len(stored(SmsMessage)) == 1
    assert len(stored(Ticket)) == 1
    assert [p.language for p in stored(PhonePreference)] == ["sw"]


def test_keywords_on_this_database(client: TestClient, stored, isp):
    for number, text in enumerate(["STATUS", "lipa 300", "stop", "start", "blah"]):
        response = client.post(
            "/sms/inbound", data={"from": WANJIKU, "text": text, "id": f"in-{number}"}
        )
        assert response.status_code == 200
    assert [m.command for m in stored(InboundSms)] == ["status", "pay", "stop", "start", "unknown"]
    assert len(stored(SmsMessage)) == 5
    assert [r.amount_kes for r in stored(StkRequest)] == [300]


def test_hostile_text_is_stored_or_refused_never_a_500(client: TestClient, stored, isp):
    for text in ["\x00STATUS\x00", "é" * 1999, "🙂" * 500, "'; drop table customers; --"]:
        response = client.post("/sms/inbound", data={"from": WANJIKU, "text": text})
        assert response.status_code == 200, text[:20]
    too_long_to = client.post("/sms/inbound", data={"from": WANJIKU, "text": "hi", "to": "2" * 300})
    assert too_long_to.status_code == 200
    assert all("\x00" not in inbound.text for inbound in stored(InboundSms))


text_or_nul = st.text(max_size=40) | st.text(alphabet="\x00\x01*#0123456789", max_size=20)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    route=st.sampled_from(["/ussd", "/sms/inbound", "/sms/delivery"]),
    form=st.dictionaries(
        st.sampled_from(
            ["sessionId", "phoneNumber", "text", "from", "to", "id", "status", "failureReason"]
        ),
        text_or_nul | st.sampled_from([WANJIKU, "0712345678", "Success", "4*1", "status"]),
        max_size=6,
    ),
)
def test_fuzzing_the_routes_on_this_database(
    client: TestClient, row_counts, route: str, form: dict[str, Any]
):
    before = row_counts()
    response = client.post(route, data=form)
    assert response.status_code in (200, 400), response.text
    if response.status_code == 400:
        assert row_counts() == before


def test_the_migration_goes_down_and_up_again(database_url: str, migrated_engine):
    config = alembic_config(database_url)
    command.downgrade(config, "0002")
    command.upgrade(config, "head")


def test_screens_are_read_without_waiting_for_a_writer(ussd, db_services, isp):
    """Every screen but a session's last only reads: it must not queue behind a payment or a
    sweep holding the database (SQLite's write lock would make it wait, or fail at 30 s)."""
    from sqlalchemy import text

    with db_services.unit_of_work() as writer:
        writer.session.execute(text("UPDATE customers SET notes = notes WHERE id < 0"))
        assert ussd(WANJIKU, "").startswith("CON ")
        assert "Home 10M" in ussd(WANJIKU, "1")
        assert ussd(WANJIKU, "2").startswith("CON ")
