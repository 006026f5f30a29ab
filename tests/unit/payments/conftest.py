"""Fixtures for the M-Pesa unit tests: a small ISP on in-memory SQLite, customers made through the
real use cases, and short ways to push, settle and confirm M-Pesa money through core (or through
the callback handling path with real Daraja payloads) and read back what it stored."""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from core import ledger
from core.actors import Actor
from core.clock import FrozenClock
from core.models import (
    Base,
    Customer,
    LedgerEntry,
    MpesaCallback,
    Payment,
    SmsMessage,
    StkRequest,
    Subscription,
)
from core.ports import RecordingDispatcher
from core.retry import in_transaction
from core.testing import TEST_EPOCH, in_memory_engine, services_for
from core.unit_of_work import CoreServices
from core.usecases.billing import PaymentResult
from core.usecases.c2b import C2BConfirmation, confirm_c2b
from core.usecases.customers import NewCustomer, create_customer
from core.usecases.mpesa_callbacks import store_callback
from core.usecases.network import RouterSpec, add_pool, add_router
from core.usecases.plans import PlanSpec, add_plan
from core.usecases.service import expire_if_due
from core.usecases.stk import (
    StkPushQueued,
    StkResult,
    StkSettlement,
    mark_stk_sent,
    request_stk_push,
    settle_stk,
    settle_stk_by_query,
)
from core.vocabulary import LedgerKind
from payments.handling import Handled, handle
from sim.daraja.wire import c2b_payload, stk_callback_payload

PLAN = "Home 10M"
PLAN_PRICE_KES = 1500
PERIOD = timedelta(days=30)
SHORTCODE = "174379"


@dataclass(frozen=True)
class Subscriber:
    id: int
    account_number: str
    phone: str


@dataclass(frozen=True)
class State:
    status: str
    expires_at: datetime | None
    balance_kes: int
    sync_pending: bool


class Mpesa:
    """Drives core's M-Pesa use cases the way the callback handlers and jobs do (each call in
    its own committed transaction, retried on a lost race) and reads back what they stored."""

    def __init__(self, services: CoreServices, clock: FrozenClock, staff: Actor) -> None:
        self.services = services
        self.clock = clock
        self.staff = staff
        self._serial = itertools.count(1)

    # -- money in ---------------------------------------------------------------------------

    def c2b(
        self, account: str, amount_kes: int, trans_id: str, name: str = "JOHN DOE"
    ) -> PaymentResult:
        confirmation = C2BConfirmation(
            trans_id=trans_id,
            amount_kes=amount_kes,
            bill_ref_number=account,
            paid_at=self.clock.now(),
            payer_phone=None,
            payer_name=name,
        )
        return in_transaction(self.services, lambda uow: confirm_c2b(uow, confirmation))

    def push(
        self,
        customer_id: int,
        amount_kes: int | None = None,
        *,
        actor: Actor | None = None,
        channel: str = "staff",
        phone: str | None = None,
    ) -> StkPushQueued:
        """Record a push (request_stk_push) without sending it."""
        return in_transaction(
            self.services,
            lambda uow: request_stk_push(
                uow, customer_id, actor or self.staff, amount_kes, phone, channel=channel
            ),
        )

    def sent_push(self, customer_id: int, amount_kes: int | None = None) -> tuple[int, str]:
        """A push Safaricom accepted: (stk request id, CheckoutRequestID)."""
        queued = self.push(customer_id, amount_kes)
        serial = next(self._serial)
        checkout = f"ws_CO_22112026120000{serial:06d}"
        in_transaction(
            self.services,
            lambda uow: mark_stk_sent(uow, queued.stk_request_id, f"29115-{serial}", checkout),
        )
        return queued.stk_request_id, checkout

    def stk(
        self,
        checkout: str,
        result_code: int = 0,
        receipt: str | None = None,
        amount_kes: int | None = None,
        description: str = "The service request is processed successfully.",
    ) -> StkSettlement:
        result = StkResult(
            checkout_request_id=checkout,
            result_code=result_code,
            result_description=description,
            amount_kes=amount_kes,
            receipt=receipt,
            phone=self.pushed_phone(checkout) if result_code == 0 else None,
            paid_at=self.clock.now() if result_code == 0 else None,
        )
        return in_transaction(self.services, lambda uow: settle_stk(uow, result))

    def query(
        self, stk_request_id: int, result_code: int = 0, description: str = "ok"
    ) -> StkSettlement:
        return in_transaction(
            self.services,
            lambda uow: settle_stk_by_query(uow, stk_request_id, result_code, description),
        )

    # -- reading back -----------------------------------------------------------------------

    def pushed_phone(self, checkout: str) -> str:
        """The phone our push of ``checkout`` prompted (a callback says so), or a stranger's."""
        with self.services.unit_of_work() as uow:
            phone = uow.session.scalar(
                select(StkRequest.phone).where(StkRequest.checkout_request_id == checkout)
            )
        return phone or "+254712345678"

    def state(self, customer_id: int) -> State:
        with self.services.unit_of_work() as uow:
            customer = uow.session.get(Customer, customer_id)
            assert customer is not None
            return State(
                customer.status,
                customer.expires_at,
                ledger.balance_kes(uow, customer_id),
                customer.sync_pending,
            )

    def mpesa_payments(self) -> list[tuple[str | None, int, int | None]]:
        """(reference, amount, customer id) of every M-Pesa payment, oldest first."""
        with self.services.unit_of_work() as uow:
            rows = uow.session.execute(
                select(Payment.reference, Payment.amount_kes, Payment.customer_id)
                .where(Payment.method == "mpesa")
                .order_by(Payment.id)
            )
            return [(row[0], row[1], row[2]) for row in rows]

    def credited_kes(self, customer_id: int) -> int:
        """What the ledger credited the customer from payments (any method)."""
        with self.services.unit_of_work() as uow:
            total = uow.session.scalar(
                select(func.coalesce(func.sum(LedgerEntry.amount_kes), 0)).where(
                    LedgerEntry.customer_id == customer_id,
                    LedgerEntry.kind == LedgerKind.PAYMENT.value,
                )
            )
            return int(total or 0)

    def periods(self, customer_id: int) -> int:
        """How many service periods the customer has had (subscription rows)."""
        with self.services.unit_of_work() as uow:
            count = uow.session.scalar(
                select(func.sum(Subscription.periods)).where(
                    Subscription.customer_id == customer_id
                )
            )
            return int(count or 0)

    def stk_request(self, stk_request_id: int) -> StkRequest:
        with self.services.unit_of_work() as uow:
            request = uow.session.get(StkRequest, stk_request_id)
            assert request is not None
            uow.session.expunge(request)
            return request

    def callbacks(self) -> list[MpesaCallback]:
        with self.services.unit_of_work() as uow:
            rows = list(uow.session.scalars(select(MpesaCallback).order_by(MpesaCallback.id)))
            for row in rows:
                uow.session.expunge(row)
            return rows

    def sms(self) -> list[tuple[str, str]]:
        """(kind, body) of every queued SMS, oldest first."""
        with self.services.unit_of_work() as uow:
            rows = uow.session.execute(
                select(SmsMessage.kind, SmsMessage.body).order_by(SmsMessage.id)
            )
            return [(row[0], row[1]) for row in rows]

    # -- the wire ---------------------------------------------------------------------------

    def deliver(self, kind: str, payload: Any) -> Handled:
        """What the web route does: store the raw body, then handle it."""
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        callback = in_transaction(
            self.services, lambda uow: store_callback(uow, kind, body, "196.201.214.200")
        )
        return handle(self.services, callback.id, kind, body, SHORTCODE)

    def c2b_payload(self, account: str, amount_kes: int, trans_id: str) -> dict[str, str]:
        return c2b_payload(
            trans_id=trans_id,
            paid_at=self.clock.now(),
            amount_kes=amount_kes,
            shortcode=SHORTCODE,
            account=account,
            balance_kes=100_000,
            msisdn="254708374149",
            first_name="John",
        )

    def stk_payload(
        self,
        checkout: str,
        receipt: str | None,
        amount_kes: int | None,
        result_code: int = 0,
        phone: str | None = None,
    ) -> dict[str, Any]:
        return stk_callback_payload(
            merchant_request_id="29115-34620561-1",
            checkout_request_id=checkout,
            result_code=result_code,
            result_desc="done" if result_code else "The service request is processed successfully.",
            amount_kes=amount_kes,
            receipt_number=receipt,
            paid_at=self.clock.now() if result_code == 0 else None,
            phone=(phone or self.pushed_phone(checkout)).lstrip("+") if result_code == 0 else None,
        )


def add_isp(services: CoreServices, staff: Actor) -> None:
    """A router with a pool and two PPPoE plans: Home 10M (KES 1500) and Home 20M (KES 2500)."""
    with services.unit_of_work() as uow:
        add_router(
            uow, staff, RouterSpec("core-1", "127.0.0.1", 8728, "admin", "secret", plain_api=True)
        )
        add_pool(uow, staff, "core-1", "10.10.0.0/24")
        add_plan(uow, staff, PlanSpec(PLAN, "pppoe", PLAN_PRICE_KES, "10M", "5M", validity_days=30))
        add_plan(uow, staff, PlanSpec("Home 20M", "pppoe", 2500, "20M", "10M", validity_days=30))
        uow.commit()


def add_customer(
    services: CoreServices, staff: Actor, number: int, paid: int | None = None, **fields: Any
) -> Subscriber:
    """A PPPoE customer on Home 10M; ``paid=N`` takes a first cash payment of N.

    No welcome SMS: these tests read the outbox for receipts only.
    """
    form: dict[str, Any] = {
        "full_name": f"Wanjiku Kamau {number}",
        "phone": f"07123456{number:02d}",
        "connection_type": "pppoe",
        "plan": PLAN,
        "router": "core-1",
        "send_welcome": False,
    }
    if paid is not None:
        form.update(payment_method="cash", amount_kes=paid)
    form.update(fields)
    with services.unit_of_work() as uow:
        customer = create_customer(uow, staff, NewCustomer(**form)).customer
        uow.commit()
        return Subscriber(customer.id, customer.account_number, customer.phone or "")


@pytest.fixture
def isp(services: CoreServices, staff: Actor) -> None:
    add_isp(services, staff)


@pytest.fixture
def mpesa(services: CoreServices, clock: FrozenClock, staff: Actor, isp: None) -> Mpesa:
    return Mpesa(services, clock, staff)


@pytest.fixture
def make_customer(services: CoreServices, staff: Actor, isp: None) -> Any:
    """Create a PPPoE customer on Home 10M; ``paid=N`` takes a first cash payment of N."""
    numbers = itertools.count(10)

    def make(paid: int | None = None, **fields: Any) -> Subscriber:
        return add_customer(services, staff, next(numbers), paid, **fields)

    return make


@pytest.fixture
def fresh_world(staff: Actor) -> Iterator[Callable[[int], tuple[Mpesa, list[Subscriber]]]]:
    """``fresh_world(n)``: an emptied private database (ISP set up, ``n`` customers who have paid
    nothing, clock frozen at TEST_EPOCH), for each hypothesis example.

    One engine serves every call (emptied in between), so SQLAlchemy's statement cache survives.
    """
    engine = in_memory_engine()

    def make(customers: int) -> tuple[Mpesa, list[Subscriber]]:
        with engine.begin() as connection:
            for table in reversed(Base.metadata.sorted_tables):
                connection.execute(table.delete())
        clock = FrozenClock(TEST_EPOCH)
        services = services_for(engine, clock=clock)
        add_isp(services, staff)
        subscribers = [add_customer(services, staff, 10 + n) for n in range(customers)]
        return Mpesa(services, clock, staff), subscribers

    yield make
    engine.dispose()


@pytest.fixture
def expired_customer(services: CoreServices, clock: FrozenClock, make_customer: Any) -> Any:
    """A customer who paid one period (cash), let it run out and was expired by the sweep.

    The clock moves 31 days forward; the customer's balance is 0.
    """

    def make(**fields: Any) -> Subscriber:
        subscriber: Subscriber = make_customer(paid=PLAN_PRICE_KES, **fields)
        clock.advance(PERIOD + timedelta(days=1))
        with services.unit_of_work() as uow:
            expire_if_due(uow, subscriber.id)
            uow.commit()
        return subscriber

    return make


@pytest.fixture
def events(dispatcher: RecordingDispatcher) -> RecordingDispatcher:
    """The events core dispatched after commit (cleared by ``events.events.clear()``)."""
    return dispatcher
