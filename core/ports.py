"""Ports: what core needs from the outside, implemented by adapters and fakes."""

from __future__ import annotations

import itertools
import logging
from dataclasses import dataclass
from typing import Protocol, TypeVar

from core.events import Event

log = logging.getLogger(__name__)
T = TypeVar("T")


class EventDispatcher(Protocol):
    """Receives events after commit (the jobs package enqueues router and expiry work)."""

    def dispatch(self, event: Event) -> None: ...


class RecordingDispatcher:
    """Keeps every event it is given; the default until a queue is wired, and for tests."""

    def __init__(self) -> None:
        self.events: list[Event] = []

    def dispatch(self, event: Event) -> None:
        self.events.append(event)

    def of_type(self, kind: type[T]) -> list[T]:
        return [event for event in self.events if isinstance(event, kind)]


class Metrics(Protocol):
    """Counts what adapters see happen, for monitoring (mteja.metrics exports them to
    Prometheus). Core's own facts (payments, expiries) reach it as events, not through here."""

    def callback_handled(self, kind: str, outcome: str) -> None:
        """An M-Pesa callback of ``kind`` ended ``outcome`` (processed, flagged, rejected, ...)."""

    def stk_result(self, outcome: str) -> None:
        """Safaricom's answer to one of our STK pushes: paid, cancelled, timeout, failed."""

    def ussd_session_started(self) -> None:
        """A subscriber dialled the USSD code (the first screen of a session)."""

    def sms_finished(self, status: str) -> None:
        """An SMS send ended with the provider's ``status`` (sent, failed, ...)."""

    def drift_repaired(self, added: int, changed: int, removed: int) -> None:
        """A reconcile found router entries missing, different or extra, and fixed them."""


class NoMetrics:
    """Counts nothing: the default until the composition root wires Prometheus, and for tests."""

    def callback_handled(self, kind: str, outcome: str) -> None:
        pass

    def stk_result(self, outcome: str) -> None:
        pass

    def ussd_session_started(self) -> None:
        pass

    def sms_finished(self, status: str) -> None:
        pass

    def drift_repaired(self, added: int, changed: int, removed: int) -> None:
        pass


class StaffNotifier(Protocol):
    """Tells staff something needs them (the bot delivers it to the staff Telegram chat)."""

    def notify(self, text: str) -> None: ...


class RecordingNotifier:
    """Keeps every message; the default until the bot is wired, and for tests."""

    def __init__(self) -> None:
        self.messages: list[str] = []

    def notify(self, text: str) -> None:
        log.info("staff notice: %s", text)
        self.messages.append(text)


class GatewayError(Exception):
    """An outside system (M-Pesa, SMS) did not do what was asked."""


class GatewayUnavailable(GatewayError):
    """It could not be reached or failed on its side; trying again later may work."""


class GatewayRejected(GatewayError):
    """It refused the request; trying again unchanged will not help."""


class GatewayOutcomeUnknown(GatewayError):
    """The request reached it, but no answer came back: it may have been carried out. Sending
    it again could do it twice (a second M-Pesa prompt, a second payment)."""


@dataclass(frozen=True)
class StkPushSent:
    merchant_request_id: str
    checkout_request_id: str


@dataclass(frozen=True)
class StkQueryAnswer:
    """``status`` is "pending", "paid" or "failed"."""

    status: str
    result_code: int | None
    description: str


class MpesaGateway(Protocol):
    """Safaricom M-Pesa as core needs it (Daraja, or the fake Daraja server)."""

    def stk_push(
        self,
        phone: str,
        amount_kes: int,
        account_reference: str,
        description: str,
        callback_url: str,
    ) -> StkPushSent: ...

    def stk_query(self, checkout_request_id: str) -> StkQueryAnswer: ...


@dataclass(frozen=True)
class SmsSent:
    provider_message_id: str | None
    cost: str | None
    status: str  # "sent", or "failed" when the provider refused this recipient
    error: str | None = None


class SmsGateway(Protocol):
    """Sends one text message (Africa's Talking, or the outbox for the demo)."""

    def send(self, phone: str, body: str) -> SmsSent: ...


class OutboxSms:
    """Sends nothing: messages stay in the database outbox, where staff read them (the demo, and
    an install with no SMS provider yet, the default). Logs the recipient, never the body (a
    welcome message holds a password), and keeps nothing in memory (a worker runs for months)."""

    def __init__(self) -> None:
        self._numbers = itertools.count(1)

    def send(self, phone: str, body: str) -> SmsSent:
        number = next(self._numbers)
        log.info("SMS to %s kept in the outbox (%d characters)", phone, len(body))
        return SmsSent(f"outbox-{number}", None, "sent")
