"""Turning core's events into queued work, after the use case has committed."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from huey import Huey
from huey.api import TaskWrapper

from core.events import (
    CallbackFlagged,
    CustomerNeedsSync,
    CustomerRemoved,
    Event,
    ExpiryScheduled,
    PaymentReceived,
    PeriodStartScheduled,
    SessionDropRequested,
    SmsQueued,
    StkPushFailed,
    StkPushRequested,
    TicketOpened,
)
from jobs.messages import MessageTasks
from jobs.payments import PaymentTasks
from jobs.tasks import Tasks, enqueue_sync, expiry_key, period_key


class HueyDispatcher:
    """EventDispatcher that enqueues huey tasks."""

    def __init__(
        self,
        huey: Huey,
        tasks: Tasks,
        payments: PaymentTasks,
        messages: MessageTasks,
        ticket_alert: TaskWrapper | None = None,
    ) -> None:
        self.huey = huey
        self.tasks = tasks
        self.payments = payments
        self.messages = messages
        self.ticket_alert = ticket_alert

    def dispatch(self, event: Event) -> None:
        if isinstance(event, CustomerNeedsSync):
            if event.router_id is not None:
                enqueue_sync(self.huey, self.tasks, event.router_id)
        elif isinstance(event, ExpiryScheduled):
            self._schedule_at(event.expires_at, self.tasks.expire_due, expiry_key)
        elif isinstance(event, PeriodStartScheduled):
            self._schedule_at(event.starts_at, self.tasks.begin_periods, period_key)
        elif isinstance(event, SessionDropRequested):
            self.tasks.drop_sessions(event.customer_id)
        elif isinstance(event, CustomerRemoved):
            if event.router_id is not None:
                self.tasks.remove_login(
                    event.router_id, event.account_number, event.username, event.connection_type
                )
        elif isinstance(event, PaymentReceived):
            self.messages.payment_notices(event.payment_id, event.expires_at, event.balance_kes)
        elif isinstance(event, StkPushRequested):
            self.payments.send_stk_push(event.stk_request_id)
        elif isinstance(event, StkPushFailed):
            self.messages.stk_failure_notices(event.stk_request_id)
        elif isinstance(event, CallbackFlagged):
            self.messages.flag_callback(event.callback_id, event.reason)
        elif isinstance(event, SmsQueued):
            self.messages.send_sms(event.message_id)
        elif isinstance(event, TicketOpened) and self.ticket_alert is not None:
            self.ticket_alert(event.ticket_id)

    def _schedule_at(
        self, instant: datetime, task: TaskWrapper, key_of: Callable[[datetime], str]
    ) -> None:
        """One run of ``task`` per distinct second: 10,000 customers ending (or starting a
        period) together cost one task.

        The run is at the next whole second, so nobody is cut (or switched) before their time.
        """
        if instant <= datetime.now(UTC):
            task()
            return
        run_at = instant.replace(microsecond=0)
        if instant.microsecond:
            run_at += timedelta(seconds=1)
        key = key_of(run_at)
        if self.huey.put_if_empty(key, "1"):
            task.schedule(args=(key,), eta=run_at)
