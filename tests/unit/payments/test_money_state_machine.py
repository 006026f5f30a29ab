"""Random sequences of everything that can happen to money (issue 14), with the invariants
checked after every step.

Steps: a push is asked for; its send is answered, times out after reaching Safaricom, is
refused, cannot connect, or its worker dies before or after Safaricom prompted the phone; the
subscriber pays or cancels a prompt; Safaricom's callback comes (in any order, repeated); a
forger with the callback token posts a callback for another amount or with a new receipt; the
STK query job asks Safaricom; a paybill payment is confirmed (and redelivered); staff take cash;
the minute sweep runs. At the end time passes with the sweep running.

Invariants, after every step:
- each receipt is at most one payment, and no real payment is credited twice;
- a balance is what was credited less what renewals charged;
- nothing is credited that was not paid (a customer's credit never exceeds their real money);
- every real payment Safaricom has told us of is credited to its customer, listed for staff in
  the needs-attention queue, or (until the end) still on its way through the replay.
"""

from __future__ import annotations

import contextlib
import itertools
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from huey import MemoryHuey
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
)
from sqlalchemy import func, select

from core import ledger
from core.actors import Actor
from core.clock import FrozenClock
from core.models import LedgerEntry, MpesaCallback, Payment, StkRequest
from core.ports import (
    GatewayOutcomeUnknown,
    GatewayRejected,
    GatewayUnavailable,
    StkPushSent,
    StkQueryAnswer,
)
from core.queries import needs_attention
from core.retry import in_transaction
from core.testing import TEST_EPOCH, in_memory_engine, services_for
from core.usecases.billing import IncomingPayment, record_payment
from core.usecases.customers import NewCustomer, create_customer
from core.usecases.mpesa_callbacks import FOR_STAFF, store_callback
from core.usecases.network import RouterSpec, add_pool, add_router
from core.usecases.plans import PlanSpec, add_plan
from core.usecases.stk import claim_stk_send, request_stk_push
from core.vocabulary import LedgerKind
from jobs.payments import PaymentRuntime, register_payment_tasks
from payments.handling import handle, replay_unprocessed, replay_waiting_stk_callbacks

# Hypothesis runs hundreds of examples: seconds to a minute; CI runs them, the edit loop skips them.
pytestmark = pytest.mark.slow

PRICE = 1500
AMOUNTS = [50, 1500, 2000]
SHORTCODE = "174379"


@dataclass
class Prompt:
    """An STK prompt as Safaricom sees it."""

    checkout: str
    phone: str
    amount_kes: int
    customer: int
    outcome: str = "open"  # open, paid, cancelled
    receipt: str | None = None


@dataclass
class Safaricom:
    """The M-Pesa side: prompts it made, and how the next send is answered."""

    prompts: list[Prompt] = field(default_factory=list)
    next_answer: str = "accept"  # accept, lost (timeout after prompting), refuse, unreachable
    customer_of_phone: dict[str, int] = field(default_factory=dict)
    serial: Any = field(default_factory=lambda: itertools.count(1))

    def stk_push(
        self, phone: str, amount_kes: int, account_reference: str, description: str, url: str
    ) -> StkPushSent:
        if self.next_answer == "refuse":
            raise GatewayRejected("Invalid PhoneNumber")
        if self.next_answer == "unreachable":
            raise GatewayUnavailable("cannot reach Daraja")
        number = next(self.serial)
        prompt = Prompt(f"ws_CO_SM{number:06d}", phone, amount_kes, self.customer_of_phone[phone])
        self.prompts.append(prompt)
        if self.next_answer == "lost":
            raise GatewayOutcomeUnknown("Daraja did not answer within 30s")
        return StkPushSent(f"29115-{number}", prompt.checkout)

    def stk_query(self, checkout_request_id: str) -> StkQueryAnswer:
        prompt = next(p for p in self.prompts if p.checkout == checkout_request_id)
        if prompt.outcome == "open":
            return StkQueryAnswer("pending", None, "The transaction is being processed")
        if prompt.outcome == "paid":
            return StkQueryAnswer("paid", 0, "The service request is processed successfully.")
        return StkQueryAnswer("failed", 1032, "Request canceled by user.")


def stk_body(prompt: Prompt, *, amount_kes: int | None = None, receipt: str | None = None) -> bytes:
    import json

    from sim.daraja.wire import stk_callback_payload

    paid = prompt.outcome == "paid" or receipt is not None
    payload = stk_callback_payload(
        merchant_request_id="29115-1",
        checkout_request_id=prompt.checkout,
        result_code=0 if paid else 1032,
        result_desc="The service request is processed successfully." if paid else "cancelled",
        amount_kes=(amount_kes or prompt.amount_kes) if paid else None,
        receipt_number=(receipt or prompt.receipt) if paid else None,
        paid_at=TEST_EPOCH if paid else None,
        phone=prompt.phone.lstrip("+") if paid else None,
    )
    return json.dumps(payload).encode()


def c2b_body(account: str, amount_kes: int, receipt: str) -> bytes:
    import json

    from sim.daraja.wire import c2b_payload

    payload = c2b_payload(
        trans_id=receipt,
        paid_at=TEST_EPOCH,
        amount_kes=amount_kes,
        shortcode=SHORTCODE,
        account=account,
        balance_kes=100_000,
        msisdn="254708374149",
        first_name="John",
    )
    return json.dumps(payload).encode()


class MoneyMachine(RuleBasedStateMachine):
    pushes = Bundle("pushes")
    prompts = Bundle("prompts")

    def __init__(self) -> None:
        super().__init__()
        self.engine = in_memory_engine()
        self.clock = FrozenClock(TEST_EPOCH)
        self.services = services_for(self.engine, clock=self.clock)
        staff = Actor.cli()
        self.safaricom = Safaricom()
        with self.services.unit_of_work() as uow:
            add_router(
                uow, staff, RouterSpec("core-1", "127.0.0.1", 8728, "admin", "pw", plain_api=True)
            )
            add_pool(uow, staff, "core-1", "10.40.0.0/24")
            add_plan(uow, staff, PlanSpec("Home", "pppoe", PRICE, "10M", "5M", validity_days=30))
            self.customers = []
            for number in range(2):
                customer = create_customer(
                    uow,
                    staff,
                    NewCustomer(
                        full_name=f"Machine {number}",
                        phone=f"07123400{number:02d}",
                        connection_type="pppoe",
                        plan="Home",
                        router="core-1",
                        send_welcome=False,
                    ),
                ).customer
                self.customers.append((customer.id, customer.account_number))
                self.safaricom.customer_of_phone[customer.phone or ""] = customer.id
            uow.commit()
        runtime = PaymentRuntime(
            services=self.services,
            mpesa=self.safaricom,
            stk_callback_url="https://isp.example.com/payments/stk/token",
            replay_callbacks=lambda: replay_unprocessed(self.services, SHORTCODE),
            replay_waiting_stk_callbacks=lambda: replay_waiting_stk_callbacks(self.services),
        )
        self.tasks = register_payment_tasks(
            MemoryHuey("machine", immediate=True, utc=True), lambda: runtime
        )
        self.receipts = itertools.count(1)
        # What really happened: money each customer paid, and the receipts Safaricom told us of.
        self.real_kes: dict[int, int] = defaultdict(int)
        self.told: set[str] = set()  # receipts of real payments delivered to us
        self.paybills: list[tuple[bytes, str]] = []

    def teardown(self) -> None:
        # Time passes with the sweep running: what was on its way is settled or listed.
        for minutes in (3, 11, 11):
            self.time_passes_and_the_sweep_runs(minutes)
        self._told_is_credited_or_listed(still_being_handled_is_enough=False)
        self.engine.dispose()

    def _receipt(self) -> str:
        return f"SM{next(self.receipts):08d}"

    def _deliver(self, kind: str, body: bytes) -> None:
        callback = in_transaction(
            self.services, lambda uow: store_callback(uow, kind, body, "196.201.214.200")
        )
        handle(self.services, callback.id, kind, body, SHORTCODE)

    # -- pushes --------------------------------------------------------------------------------

    @rule(target=pushes, who=st.integers(0, 1), amount=st.sampled_from(AMOUNTS))
    def ask_for_a_push(self, who: int, amount: int) -> int:
        customer_id = self.customers[who][0]
        queued = in_transaction(
            self.services,
            lambda uow: request_stk_push(uow, customer_id, Actor.cli(), amount),
        )
        return queued.stk_request_id

    @rule(
        push=pushes,
        answer=st.sampled_from(["accept", "accept", "lost", "refuse", "unreachable"]),
    )
    def send(self, push: int, answer: str) -> None:
        self.safaricom.next_answer = answer
        with contextlib.suppress(GatewayUnavailable):  # huey would retry it
            self.tasks.send_stk_push.call_local(push)

    @rule(push=pushes)
    def a_worker_dies_mid_send(self, push: int) -> None:
        in_transaction(self.services, lambda uow: claim_stk_send(uow, push))

    @rule(push=pushes)
    def a_worker_dies_after_safaricom_prompted(self, push: int) -> None:
        send = in_transaction(self.services, lambda uow: claim_stk_send(uow, push))
        if send is not None:  # it prompts the phone, then the worker is killed
            self.safaricom.next_answer = "accept"
            self.safaricom.stk_push(send.phone, send.amount_kes, send.account_reference, "", "")

    @rule(minutes=st.sampled_from([1, 3, 11]))
    def time_passes_and_the_sweep_runs(self, minutes: int) -> None:
        self.clock.advance(timedelta(minutes=minutes))
        self.safaricom.next_answer = "accept"
        self.tasks.mpesa_sweep.call_local()

    # -- the subscriber and Safaricom -----------------------------------------------------------

    @precondition(lambda self: any(p.outcome == "open" for p in self.safaricom.prompts))
    @rule(data=st.data(), pays=st.booleans())
    def the_subscriber_answers_a_prompt(self, data: st.DataObject, pays: bool) -> None:
        open_prompts = [p for p in self.safaricom.prompts if p.outcome == "open"]
        prompt = data.draw(st.sampled_from(open_prompts))
        if pays:
            prompt.outcome, prompt.receipt = "paid", self._receipt()
            self.real_kes[prompt.customer] += prompt.amount_kes
        else:
            prompt.outcome = "cancelled"

    @precondition(lambda self: any(p.outcome != "open" for p in self.safaricom.prompts))
    @rule(data=st.data())
    def safaricom_calls_back(self, data: st.DataObject) -> None:
        done = [p for p in self.safaricom.prompts if p.outcome != "open"]
        prompt = data.draw(st.sampled_from(done))
        self._deliver("stk", stk_body(prompt))
        if prompt.receipt:
            self.told.add(prompt.receipt)

    @precondition(lambda self: bool(self.safaricom.prompts))
    @rule(data=st.data())
    def a_forger_claims_another_amount(self, data: st.DataObject) -> None:
        prompt = data.draw(st.sampled_from(self.safaricom.prompts))
        body = stk_body(prompt, amount_kes=prompt.amount_kes * 100, receipt=self._receipt())
        self._deliver("stk", body)

    @precondition(lambda self: any(p.receipt for p in self.safaricom.prompts))
    @rule(data=st.data())
    def a_forger_sends_a_new_receipt_for_a_credited_push(self, data: st.DataObject) -> None:
        # A forged callback for a push still open is indistinguishable from Safaricom's (its
        # own push, its own amount); one for a push already credited is not.
        with self.services.unit_of_work(read_only=True) as uow:
            credited = set(uow.session.scalars(select(Payment.reference)))
        paid = [p for p in self.safaricom.prompts if p.receipt and p.receipt in credited]
        if paid:
            prompt = data.draw(st.sampled_from(paid))
            self._deliver("stk", stk_body(prompt, receipt=self._receipt()))

    @precondition(lambda self: bool(self.safaricom.prompts))
    @rule()
    def the_query_job_asks_safaricom(self) -> None:
        with self.services.unit_of_work(read_only=True) as uow:
            pending = list(
                uow.session.scalars(select(StkRequest.id).where(StkRequest.status == "pending"))
            )
        for push in pending:
            self.tasks.query_stk.call_local(push, 5)

    # -- paybill and cash ------------------------------------------------------------------------

    @rule(who=st.integers(0, 1), amount=st.sampled_from(AMOUNTS))
    def a_paybill_payment(self, who: int, amount: int) -> None:
        customer_id, account = self.customers[who]
        receipt = self._receipt()
        body = c2b_body(account, amount, receipt)
        self.real_kes[customer_id] += amount
        self.paybills.append((body, receipt))
        self._deliver("c2b_confirmation", body)
        self.told.add(receipt)

    @precondition(lambda self: bool(self.paybills))
    @rule(data=st.data())
    def safaricom_redelivers_a_paybill_confirmation(self, data: st.DataObject) -> None:
        body, _ = data.draw(st.sampled_from(self.paybills))
        self._deliver("c2b_confirmation", body)

    @rule(who=st.integers(0, 1))
    def staff_take_cash(self, who: int) -> None:
        customer_id = self.customers[who][0]
        self.real_kes[customer_id] += PRICE
        in_transaction(
            self.services,
            lambda uow: record_payment(
                uow, customer_id, Actor.cli(), IncomingPayment(PRICE, "cash")
            ),
        )

    # -- invariants -------------------------------------------------------------------------------

    def _credited(self, uow: Any, customer_id: int) -> int:
        return int(
            uow.session.scalar(
                select(func.coalesce(func.sum(LedgerEntry.amount_kes), 0)).where(
                    LedgerEntry.customer_id == customer_id,
                    LedgerEntry.kind == LedgerKind.PAYMENT.value,
                )
            )
            or 0
        )

    @invariant()
    def nothing_unpaid_is_credited_and_balances_add_up(self) -> None:
        with self.services.unit_of_work(read_only=True) as uow:
            for customer_id, _ in self.customers:
                credited = self._credited(uow, customer_id)
                assert credited <= self.real_kes[customer_id], "credited money never paid"
                paid_in = int(
                    uow.session.scalar(
                        select(func.coalesce(func.sum(Payment.amount_kes), 0)).where(
                            Payment.customer_id == customer_id
                        )
                    )
                    or 0
                )
                assert paid_in == credited, "a payment row without its credit, or the reverse"
                charged = int(
                    uow.session.scalar(
                        select(func.coalesce(func.sum(LedgerEntry.amount_kes), 0)).where(
                            LedgerEntry.customer_id == customer_id,
                            LedgerEntry.kind != LedgerKind.PAYMENT.value,
                        )
                    )
                    or 0
                )
                assert ledger.balance_kes(uow, customer_id) == credited + charged

    @invariant()
    def each_real_payment_we_were_told_of_is_credited_once_or_waits_for_staff(self) -> None:
        self._told_is_credited_or_listed(still_being_handled_is_enough=True)

    def _told_is_credited_or_listed(self, *, still_being_handled_is_enough: bool) -> None:
        """A callback still "received" is on its way (waiting for its push's send to end, or
        for its next try); at the end, after the sweeps, none may be left there."""
        with self.services.unit_of_work(read_only=True) as uow:
            references = [
                reference
                for reference in uow.session.scalars(select(Payment.reference))
                if reference
            ]
            assert len(references) == len(set(references))
            credited = set(references)
            for_staff = [
                (str(callback.id), callback.body)
                for callback in uow.session.scalars(
                    select(MpesaCallback).where(MpesaCallback.status.in_(FOR_STAFF))
                )
            ]
            listed = {item.reference for item in needs_attention(uow, limit=500)}
            being_handled = [
                callback.body
                for callback in uow.session.scalars(
                    select(MpesaCallback).where(MpesaCallback.status == "received")
                )
            ]
            for receipt in self.told:
                if receipt in credited:
                    continue
                if still_being_handled_is_enough and any(receipt in b for b in being_handled):
                    continue
                flagged = [number for number, body in for_staff if receipt in body]
                assert any(number in listed for number in flagged), f"{receipt} is nowhere"
            for prompt in self.safaricom.prompts:
                # One real payment, one credit: never its receipt and a query's credit both.
                if prompt.receipt in credited:
                    assert f"STKQ-{prompt.checkout}" not in credited


MoneyMachine.TestCase.settings = settings(
    max_examples=60,
    stateful_step_count=25,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
test_money_state_machine = MoneyMachine.TestCase
