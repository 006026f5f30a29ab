"""Tasks for M-Pesa: send an STK push (once), query a push whose callback is late, and the
minute sweep that replays stored callbacks and makes up for lost or orphaned sends."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from huey import Huey
from huey.api import TaskWrapper

from core.ports import (
    GatewayOutcomeUnknown,
    GatewayRejected,
    MpesaGateway,
)
from core.retry import in_transaction
from core.unit_of_work import CoreServices
from core.usecases.stk import (
    abandoned_sends,
    checkout_to_query,
    claim_stk_send,
    give_up_stk_send,
    mark_stk_error,
    mark_stk_sent,
    mark_stk_unconfirmed,
    pending_stk_requests,
    queued_stk_requests,
    release_stk_send,
    settle_stk_by_query,
)
from jobs.periodic import once_per_slot_task
from jobs.priorities import SUBSCRIBER_WAITING_PRIORITY

log = logging.getLogger(__name__)

STK_QUERY_AFTER = timedelta(seconds=90)
STK_QUERY_ATTEMPTS = 5
# A push still queued this long after it was asked for lost its send job: sent by the sweep.
STK_SEND_LOST_AFTER = timedelta(seconds=30)
# After this a prompt would surprise the subscriber: the push is given up instead.
STK_SEND_GIVE_UP_AFTER = timedelta(minutes=10)


@dataclass
class PaymentRuntime:
    """What the payment tasks need, built by the composition root of the running process."""

    services: CoreServices
    mpesa: MpesaGateway | None
    stk_callback_url: str
    replay_callbacks: Callable[[], int]
    # Handles the STK callbacks that overtook the push's answer.
    replay_waiting_stk_callbacks: Callable[[], int]


@dataclass
class PaymentTasks:
    send_stk_push: TaskWrapper
    query_stk: TaskWrapper
    mpesa_sweep: TaskWrapper


def register_payment_tasks(huey: Huey, runtime: Callable[[], PaymentRuntime]) -> PaymentTasks:
    """Register the M-Pesa tasks on ``huey``."""

    @huey.task(name="send_stk_push", priority=SUBSCRIBER_WAITING_PRIORITY, retries=3, retry_delay=5)
    def send_stk_push(stk_request_id: int) -> None:
        """Ask Safaricom to prompt the phone, once: the push is claimed before it is sent."""
        env = runtime()
        send = in_transaction(env.services, lambda uow: claim_stk_send(uow, stk_request_id))
        if send is None:
            return  # sent, being sent by another worker, or settled
        if env.mpesa is None:
            in_transaction(
                env.services,
                lambda uow: mark_stk_error(uow, stk_request_id, "M-Pesa is not configured"),
            )
            return
        try:
            sent = env.mpesa.stk_push(
                send.phone,
                send.amount_kes,
                send.account_reference,
                "Internet",
                env.stk_callback_url,
            )
        except GatewayRejected as error:
            refused = str(error)
            in_transaction(env.services, lambda uow: mark_stk_error(uow, stk_request_id, refused))
            return
        except GatewayOutcomeUnknown as error:
            # The phone may be showing the prompt: never a second one. Its callback settles it.
            lost = str(error)
            in_transaction(
                env.services, lambda uow: mark_stk_unconfirmed(uow, stk_request_id, lost)
            )
            env.replay_waiting_stk_callbacks()
            return
        except Exception:
            # It never reached Safaricom: queued again, and huey retries (the sweep after that).
            in_transaction(env.services, lambda uow: release_stk_send(uow, stk_request_id))
            raise
        in_transaction(
            env.services,
            lambda uow: mark_stk_sent(
                uow, stk_request_id, sent.merchant_request_id, sent.checkout_request_id
            ),
        )
        log.info(
            "STK prompt sent: KES %s to %s for %s",
            f"{send.amount_kes:,}",
            send.phone,
            send.account_reference,
        )
        env.replay_waiting_stk_callbacks()
        query_stk.schedule(args=(stk_request_id, 1), delay=STK_QUERY_AFTER.total_seconds())

    @huey.task(name="query_stk", priority=SUBSCRIBER_WAITING_PRIORITY, retries=2, retry_delay=30)
    def query_stk(stk_request_id: int, attempt: int = 1) -> None:
        """No callback yet: ask Daraja where the push stands and settle it."""
        env = runtime()
        with env.services.unit_of_work(read_only=True) as uow:
            checkout = checkout_to_query(uow, stk_request_id)
        if checkout is None or env.mpesa is None:
            return
        try:
            answer = env.mpesa.stk_query(checkout)
        except GatewayRejected as error:
            log.warning("STK query for %s refused: %s", checkout, error)
            return
        if answer.status == "pending":
            if attempt < STK_QUERY_ATTEMPTS:
                query_stk.schedule(args=(stk_request_id, attempt + 1), delay=60)
            return
        code = answer.result_code if answer.result_code is not None else -1
        in_transaction(
            env.services,
            lambda uow: settle_stk_by_query(uow, stk_request_id, code, answer.description),
        )

    def services() -> CoreServices:
        return runtime().services

    @once_per_slot_task(huey, "mpesa_sweep", every_minutes=1, services=services)
    def mpesa_sweep() -> None:
        """Replay callbacks stored but never handled; query pushes whose callback is late;
        send pushes whose send job was lost; settle sends whose worker died."""
        env = runtime()
        env.replay_callbacks()
        with env.services.unit_of_work(read_only=True) as uow:
            late = pending_stk_requests(uow, STK_QUERY_AFTER * 3)
            lost = queued_stk_requests(uow, STK_SEND_LOST_AFTER)
            stale = set(queued_stk_requests(uow, STK_SEND_GIVE_UP_AFTER))
            abandoned = abandoned_sends(uow)
        for stk_request_id in late:
            query_stk(stk_request_id, STK_QUERY_ATTEMPTS)
        for stk_request_id in lost:
            if stk_request_id in stale:
                _give_up(env.services, stk_request_id)
            else:
                send_stk_push(stk_request_id)
        for stk_request_id in abandoned:
            _unconfirmed(env.services, stk_request_id)
        if abandoned:
            env.replay_waiting_stk_callbacks()

    return PaymentTasks(send_stk_push, query_stk, mpesa_sweep)


def _give_up(services: CoreServices, stk_request_id: int) -> None:
    in_transaction(
        services,
        lambda uow: give_up_stk_send(uow, stk_request_id, "M-Pesa could not be reached"),
    )


def _unconfirmed(services: CoreServices, stk_request_id: int) -> None:
    in_transaction(
        services,
        lambda uow: mark_stk_unconfirmed(
            uow, stk_request_id, "the worker sending it stopped before Safaricom answered"
        ),
    )
