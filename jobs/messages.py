"""Tasks for messages: SMS sends and their sweep, payment receipts, STK-failure notices and
staff alerts about callbacks."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from huey import Huey
from huey.api import TaskWrapper

from core.ports import GatewayRejected, SmsGateway, SmsSent, StaffNotifier
from core.retry import in_transaction
from core.unit_of_work import CoreServices, UnitOfWork
from core.usecases.notices import callback_flag_line, payment_notices, stk_failure_notices
from core.usecases.sms import (
    ClaimedSms,
    claim_for_sending,
    messages_to_resend,
    record_sent,
    release_claim,
)
from jobs.periodic import once_per_slot_task

log = logging.getLogger(__name__)

# Before a send the provider did not answer is tried again (doubling at each retry).
RETRY_DELAY_SECONDS = 10


@dataclass
class MessageRuntime:
    """What the message tasks need, built by the composition root of the running process."""

    services: CoreServices
    sms: SmsGateway
    notifier: StaffNotifier


@dataclass
class MessageTasks:
    payment_notices: TaskWrapper
    stk_failure_notices: TaskWrapper
    flag_callback: TaskWrapper
    send_sms: TaskWrapper
    sms_sweep: TaskWrapper


def register_message_tasks(huey: Huey, runtime: Callable[[], MessageRuntime]) -> MessageTasks:
    """Register the SMS and notice tasks on ``huey``."""

    def notify_from(work: Callable[[UnitOfWork], str | None]) -> str | None:
        env = runtime()
        line = in_transaction(env.services, work)
        if line:
            alert_staff(env, line)
        return line

    def alert_staff(env: MessageRuntime, line: str) -> None:
        """Tell staff, never raising: the job calling this has committed (and sent) the
        subscriber's SMS, and huey running it again would send that SMS again."""
        try:
            env.notifier.notify(line)
        except Exception:
            log.exception("staff alert not delivered: %s", line[:100])

    @huey.task(name="payment_notices", retries=3, retry_delay=10)
    def payment_notices_task(
        payment_id: int, expires_at: datetime | None = None, balance_kes: int | None = None
    ) -> None:
        """The payer's SMS receipt, sent here rather than by a send job of its own (one task
        and one transaction fewer per payment), and the staff alert, as of right after this
        payment."""
        env = runtime()
        notices = in_transaction(
            env.services,
            lambda uow: payment_notices(uow, payment_id, expires_at, balance_kes, send_here=True),
        )
        if notices.receipt_sms is not None:
            send_claimed_receipt(env, notices.receipt_sms)
        if notices.staff_line:
            alert_staff(env, notices.staff_line)
            # Logged here, after the credit committed: never a payment a rollback undid.
            log.info("%s", notices.staff_line)

    def send_claimed_receipt(env: MessageRuntime, sms: ClaimedSms) -> None:
        """Send a receipt this task queued and claimed. Nothing is raised from here: the task
        running again would queue the receipt twice. Not sent, the message is back in the queue
        (``deliver``), and a send job tries it again; failing that, the minute sweep does."""
        try:
            deliver(env, sms)
        except Exception:
            log.warning("receipt SMS %s not sent yet; its send job retries it", sms.message_id)
            try:
                send_sms.schedule(args=(sms.message_id,), delay=RETRY_DELAY_SECONDS)
            except Exception:
                log.exception("could not queue SMS %s again; the sweep will", sms.message_id)

    @huey.task(name="stk_failure_notices", retries=3, retry_delay=10)
    def stk_failure_task(stk_request_id: int) -> None:
        """Tell the subscriber in plain words why the push failed; tell staff."""
        notify_from(lambda uow: stk_failure_notices(uow, stk_request_id))

    @huey.task(name="flag_callback", retries=3, retry_delay=10)
    def flag_callback(callback_id: int, reason: str) -> None:
        """A callback could not be believed or handled: staff check it against the statement."""
        env = runtime()
        with env.services.unit_of_work() as uow:
            line = callback_flag_line(uow, callback_id, reason)
        env.notifier.notify(line)

    @huey.task(name="send_sms", retries=5, retry_delay=RETRY_DELAY_SECONDS, retry_backoff=2)
    def send_sms(message_id: int) -> None:
        """Send one queued SMS and record the provider's id, cost and status."""
        env = runtime()
        claimed = in_transaction(env.services, lambda uow: claim_for_sending(uow, message_id))
        if claimed is None:
            return  # already sent, being sent by another worker, or gone
        deliver(env, claimed)

    def deliver(env: MessageRuntime, sms: ClaimedSms) -> None:
        """Send a message this worker has claimed and record what the provider answered."""
        try:
            result = env.sms.send(sms.phone, sms.body)
        except GatewayRejected as refusal:
            # Retrying a refusal (a bad API key, a barred number) sends nothing more.
            result = SmsSent(None, None, "failed", str(refusal)[:500])
        except Exception:
            # Unreachable (or anything else unexpected): give the message back to be retried.
            in_transaction(env.services, lambda uow: release_claim(uow, sms.message_id))
            raise
        in_transaction(env.services, lambda uow: record_sent(uow, sms.message_id, result))
        env.services.metrics.sms_finished(result.status)
        # To whom, never the body: a welcome message holds the subscriber's password.
        log.info("SMS %s to %s", result.status, sms.phone)

    def services() -> CoreServices:
        return runtime().services

    @once_per_slot_task(huey, "sms_sweep", every_minutes=1, services=services)
    def sms_sweep() -> None:
        """Enqueue again the messages whose send job was lost (queue down, worker killed)."""
        env = runtime()
        for message_id in in_transaction(env.services, messages_to_resend):
            send_sms(message_id)

    return MessageTasks(payment_notices_task, stk_failure_task, flag_callback, send_sms, sms_sweep)
