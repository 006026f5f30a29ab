"""Fixtures for self-service: a small ISP on in-memory SQLite, subscribers made through the real
use cases, the real web app through Starlette's TestClient, and short ways to dial a USSD
session, text an SMS and read back what was stored.

The clock is frozen at 2026-11-22 09:00 UTC (12:00 in Nairobi).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import func, select
from starlette.testclient import TestClient

from core.actors import Actor
from core.clock import FrozenClock
from core.models import Base, Customer
from core.ports import RecordingDispatcher
from core.testing import in_memory_engine, services_for
from core.unit_of_work import CoreConfig, CoreServices
from core.usecases.customers import NewCustomer, create_customer
from core.usecases.network import RouterSpec, add_pool, add_router
from core.usecases.plans import PlanSpec, add_plan
from web.app import create_app

WANJIKU = "+254712345678"  # one account, Home 10M, paid 2000 (active, KES 500 credit)
OTIENO = "+254722000111"  # two accounts: Home 10M (never paid) and Daily 5M hotspot
STRANGER = "+254733999888"  # no account
SUPPORT = "+254700000001"


@pytest.fixture
def config() -> CoreConfig:
    return CoreConfig(isp_name="Kasarani Net", support_phone=SUPPORT, paybill_number="174379")


@pytest.fixture
def services(
    clock: FrozenClock, dispatcher: RecordingDispatcher, config: CoreConfig
) -> Iterator[CoreServices]:
    engine = in_memory_engine()
    yield services_for(engine, clock=clock, dispatcher=dispatcher, config=config)
    engine.dispose()


@dataclass(frozen=True)
class Subscribers:
    wanjiku: int
    otieno_home: int
    otieno_shop: int


PPPOE_PLANS = [
    ("Home 10M", 1500),
    ("Home 20M", 2500),
    ("Home 30M", 3200),
    ("Home 50M", 4000),
    ("Home 100M", 6000),
    ("Home 200M", 9000),
]


@pytest.fixture
def make_customer(services: CoreServices, staff: Actor) -> Callable[..., int]:
    """Create a customer through ``create_customer`` (PPPoE, Home 10M, unpaid by default).

    No welcome SMS unless ``send_welcome=True``: most tests count the replies in the outbox.
    """

    def make(phone: str, paid: int | None = None, **fields: Any) -> int:
        form: dict[str, Any] = {
            "full_name": "Wanjiku Kamau",
            "phone": phone,
            "connection_type": "pppoe",
            "plan": "Home 10M",
            "router": "core-1",
            "send_welcome": False,
        }
        if paid is not None:
            form.update(payment_method="cash", amount_kes=paid)
        form.update(fields)
        with services.unit_of_work() as uow:
            created = create_customer(uow, staff, NewCustomer(**form))
            uow.commit()
            return created.customer.id

    return make


@pytest.fixture
def subscribers(
    services: CoreServices,
    staff: Actor,
    make_customer: Callable[..., int],
    dispatcher: RecordingDispatcher,
) -> Subscribers:
    with services.unit_of_work() as uow:
        add_router(
            uow, staff, RouterSpec("core-1", "127.0.0.1", 8728, "admin", "secret", plain_api=True)
        )
        add_pool(uow, staff, "core-1", "10.10.0.0/24")
        for name, price in PPPOE_PLANS:
            add_plan(uow, staff, PlanSpec(name, "pppoe", price, "10M", "5M", validity_days=30))
        add_plan(uow, staff, PlanSpec("Daily 5M", "hotspot", 50, "5M", "2M", validity_hours=24))
        add_plan(uow, staff, PlanSpec("Weekly 5M", "hotspot", 300, "5M", "2M", validity_days=7))
        uow.commit()
    made = Subscribers(
        wanjiku=make_customer(WANJIKU, paid=2000),
        otieno_home=make_customer("0722000111", full_name="Otieno Odhiambo"),
        otieno_shop=make_customer(
            "0722000111", full_name="Otieno Shop", connection_type="hotspot", plan="Daily 5M"
        ),
    )
    dispatcher.events.clear()
    return made


@pytest.fixture
def client(services: CoreServices) -> Iterator[TestClient]:
    with TestClient(create_app(services)) as test_client:
        yield test_client


Screen = str


@pytest.fixture
def ussd(client: TestClient) -> Callable[[str, str], Screen]:
    """``ussd(phone, text)``: one USSD request; returns the body after checking the contract
    every screen must keep (200, text/plain, CON/END, at most 160 characters)."""

    def request(phone: str, text: str) -> Screen:
        response = client.post(
            "/ussd",
            data={
                "sessionId": "ATUid_test",
                "serviceCode": "*384*1234#",
                "phoneNumber": phone,
                "networkCode": "63902",
                "text": text,
            },
        )
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith("text/plain")
        body = response.text
        assert body.startswith(("CON ", "END ")), body
        assert len(body) <= 160, (len(body), body)
        return body

    return request


@pytest.fixture
def dial(ussd: Callable[[str, str], Screen]) -> Callable[..., list[Screen]]:
    """``dial(phone, "1", "2")``: a whole session, answer by answer, as Africa's Talking sends
    it (``text`` grows: "", "1", "1*2"); returns every screen shown."""

    def session(phone: str, *answers: str) -> list[Screen]:
        screens = [ussd(phone, "")]
        for index in range(len(answers)):
            screens.append(ussd(phone, "*".join(answers[: index + 1])))
        return screens

    return session


@pytest.fixture
def text_sms(client: TestClient) -> Callable[..., int]:
    """``text_sms(phone, text, id=...)``: post an inbound SMS; returns the HTTP status."""

    counter = iter(range(1, 1_000_000))

    def post(phone: str, text: str, message_id: str | None = None) -> int:
        response = client.post(
            "/sms/inbound",
            data={
                "from": phone,
                "to": "22384",
                "text": text,
                "date": "2026-11-22 12:00:00",
                "id": message_id or f"inbound-{next(counter)}",
                "linkId": "",
                "networkCode": "63902",
            },
        )
        return response.status_code

    return post


@pytest.fixture
def row_counts(services: CoreServices) -> Callable[[], dict[str, int]]:
    """How many rows every table holds: compared before and after a request that must not
    write anything."""

    def counts() -> dict[str, int]:
        with services.unit_of_work() as uow:
            return {
                table.name: int(uow.session.scalar(select(func.count()).select_from(table)) or 0)
                for table in Base.metadata.sorted_tables
            }

    return counts


@pytest.fixture
def stored(services: CoreServices) -> Callable[..., list[Any]]:
    """``stored(Model, **equal)``: the rows of ``Model`` (detached), oldest first."""

    def rows(model: type[Any], **equal: Any) -> list[Any]:
        with services.unit_of_work() as uow:
            query = select(model).filter_by(**equal).order_by(*model.__mapper__.primary_key)
            found = list(uow.session.scalars(query))
            uow.session.expunge_all()
            return found

    return rows


@pytest.fixture
def customer_row(services: CoreServices) -> Callable[[int], Customer]:
    def read(customer_id: int) -> Customer:
        with services.unit_of_work() as uow:
            customer = uow.session.get(Customer, customer_id)
            assert customer is not None
            _ = customer.plan, customer.pending_plan
            uow.session.expunge_all()
            return customer

    return read
