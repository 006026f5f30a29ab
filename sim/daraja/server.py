"""A fake Safaricom Daraja for tests, the demo and benchmarks.

It speaks the real wire format (see sim.daraja.routes), so the real DarajaClient runs
against it unchanged through `base_url`. STK pushes end in a chosen outcome (per phone or by
default) and the callback is POSTed from a background thread after a delay; paybill payments
are simulated with pay_bill(). Everything received and sent is recorded (`stk_requests`,
`callbacks_sent`, ...) for tests to assert on.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
import logging
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Literal

import httpx
import uvicorn
from starlette.applications import Starlette

from payments.daraja import PAYBILL, DarajaConfig
from payments.phone import normalize_msisdn
from sim.daraja.routes import build_app
from sim.daraja.wire import (
    BAD_REQUEST_CODE,
    FakeRequestError,
    IdFactory,
    c2b_payload,
    is_acceptable_callback_url,
    require_password,
    stk_callback_payload,
    validate_stk_push,
)
from sim.delayed_jobs import DelayedJobs
from sim.serving import BackgroundServer

__all__ = [
    "DEFAULT_PAYER_PHONE",
    "SANDBOX_PASSKEY",
    "SANDBOX_SHORTCODE",
    "C2BOutcome",
    "Checkout",
    "FakeDaraja",
    "FakeDarajaServer",
    "SentCallback",
    "StkOutcome",
    "run_fake_daraja",
]

log = logging.getLogger(__name__)

CallbackKind = Literal["stk", "c2b_validation", "c2b_confirmation"]

# Safaricom's published sandbox shortcode and Lipa Na M-Pesa passkey (public test values).
SANDBOX_SHORTCODE = "174379"
SANDBOX_PASSKEY = "bfb279f9aa9bdbcf158e97dd71a467cd2e0c893059b10f78e6b72ada1ed2c919"
DEFAULT_CONSUMER_KEY = "fake-consumer-key"
DEFAULT_CONSUMER_SECRET = "fake-consumer-secret"
DEFAULT_PAYER_PHONE = "254708374149"


class StkOutcome(StrEnum):
    """How the simulated customer answers the STK prompt."""

    PAID = "paid"
    CANCELLED = "cancelled"
    TIMEOUT = "timeout"
    WRONG_PIN = "wrong_pin"
    INSUFFICIENT = "insufficient"
    NEVER = "never"  # no answer and no callback, until complete() is called


_RESULTS: dict[StkOutcome, tuple[int, str]] = {
    StkOutcome.PAID: (0, "The service request is processed successfully."),
    StkOutcome.CANCELLED: (1032, "Request canceled by user."),
    StkOutcome.TIMEOUT: (1037, "DS timeout user cannot be reached"),
    StkOutcome.WRONG_PIN: (2001, "The initiator information is invalid."),
    StkOutcome.INSUFFICIENT: (1, "The balance is insufficient for the transaction."),
}


@dataclass(frozen=True)
class SentCallback:
    """One POST the fake made to us. `status_code` is None when the receiver was unreachable."""

    kind: CallbackKind
    url: str
    payload: dict[str, Any]
    status_code: int | None
    response_body: str
    error: str | None = None


@dataclass(frozen=True)
class C2BOutcome:
    """What happened to a simulated paybill payment."""

    trans_id: str
    accepted: bool
    reason: str
    payload: dict[str, str]
    validation: SentCallback | None
    confirmation: SentCallback | None


@dataclass
class Checkout:
    """One STK push the fake accepted. `result_code` stays None while it is processing."""

    merchant_request_id: str
    checkout_request_id: str
    phone: str
    amount_kes: int
    account_reference: str
    callback_url: str
    outcome: StkOutcome
    result_code: int | None = None
    result_desc: str = ""
    receipt_number: str | None = None

    @property
    def done(self) -> bool:
        return self.result_code is not None


class FakeDaraja:
    """State and behaviour of the fake; `app` serves it, the methods control it.

    Thread-safe: the app runs on uvicorn's loop, callbacks go out on worker threads and tests
    call the control methods from their own thread.
    """

    def __init__(
        self,
        *,
        consumer_key: str = DEFAULT_CONSUMER_KEY,
        consumer_secret: str = DEFAULT_CONSUMER_SECRET,
        shortcode: str = SANDBOX_SHORTCODE,
        passkey: str = SANDBOX_PASSKEY,
        token_ttl_seconds: int = 3599,
        default_outcome: StkOutcome | str = StkOutcome.PAID,
        default_delay_seconds: float = 0.0,
        external_validation: bool = True,
        callback_timeout_seconds: float = 10.0,
        org_balance_kes: int = 49197,
        clock: Callable[[], datetime] | None = None,
        seed: int | None = None,
    ) -> None:
        self.consumer_key = consumer_key
        self.consumer_secret = consumer_secret
        self.shortcode = shortcode
        self.passkey = passkey
        self.token_ttl_seconds = token_ttl_seconds
        self.external_validation = external_validation
        self.callback_timeout_seconds = callback_timeout_seconds
        self._clock = clock or (lambda: datetime.now(UTC))
        self._lock = threading.Condition(threading.RLock())
        self._ids = IdFactory(seed)
        self._tokens: dict[str, float] = {}
        self._default_outcome = StkOutcome(default_outcome)
        self._default_delay = default_delay_seconds
        self._phone_outcomes: dict[str, tuple[StkOutcome, float | None]] = {}
        self._balance_kes = org_balance_kes
        self._jobs = DelayedJobs(name="fake-daraja-callbacks")
        self._http: httpx.Client | None = None
        self._app: Starlette | None = None
        # What tests assert on.
        self.token_requests = 0
        self.stk_requests: list[dict[str, Any]] = []
        self.stk_query_requests: list[dict[str, Any]] = []
        self.callbacks_sent: list[SentCallback] = []
        self.checkouts: dict[str, Checkout] = {}
        self.c2b_payments: dict[str, dict[str, str]] = {}
        self.confirmation_url: str | None = None
        self.validation_url: str | None = None
        self.response_type: str | None = None

    # --- control API --------------------------------------------------------------------------

    def daraja_config(self, base_url: str, **overrides: Any) -> DarajaConfig:
        """A DarajaConfig whose credentials match this fake (overrides win)."""
        values: dict[str, Any] = {
            "base_url": base_url,
            "consumer_key": self.consumer_key,
            "consumer_secret": self.consumer_secret,
            "shortcode": self.shortcode,
            "passkey": self.passkey,
            "transaction_type": PAYBILL,
            "timeout_seconds": 5.0,
        }
        values.update(overrides)
        return DarajaConfig(**values)

    def set_outcome(
        self,
        outcome: StkOutcome | str,
        *,
        phone: str | None = None,
        delay_seconds: float | None = None,
    ) -> None:
        """Choose how pushes to `phone` (or, without phone, all others) end, after what delay."""
        chosen = StkOutcome(outcome)
        if delay_seconds is not None and delay_seconds < 0:
            raise ValueError("delay_seconds must not be negative")
        with self._lock:
            if phone is None:
                self._default_outcome = chosen
                if delay_seconds is not None:
                    self._default_delay = delay_seconds
            else:
                self._phone_outcomes[normalize_msisdn(phone)] = (chosen, delay_seconds)

    def complete(self, checkout_request_id: str, outcome: StkOutcome | str) -> SentCallback:
        """Finish a still-processing push now (e.g. one set to "never") and deliver its callback."""
        chosen = StkOutcome(outcome)
        if chosen is StkOutcome.NEVER:
            raise ValueError("complete() needs a final outcome, not 'never'")
        with self._lock:
            checkout = self.checkouts[checkout_request_id]
            if checkout.done:
                raise ValueError(f"checkout {checkout_request_id} is already finished")
            checkout.outcome = chosen
        sent = self._finish(checkout_request_id)
        if sent is None:
            # Its own scheduled delivery got there between our check and _finish.
            raise ValueError(f"checkout {checkout_request_id} finished on its own meanwhile")
        return sent

    def revoke_tokens(self) -> None:
        """Forget every issued token, as if Daraja expired them early."""
        with self._lock:
            self._tokens.clear()

    def pay_bill(
        self,
        account: str,
        amount_kes: int,
        phone: str = DEFAULT_PAYER_PHONE,
        trans_id: str | None = None,
        first_name: str = "John",
    ) -> C2BOutcome:
        """Simulate a customer paying the paybill: validation first, then confirmation.

        Validation is called only if a ValidationURL is registered (and external_validation is
        on); the payment goes through only if it answers ResultCode "0"/0. If the validation
        URL cannot be reached, the registered ResponseType decides (Completed or Cancelled).
        """
        if isinstance(amount_kes, bool) or not isinstance(amount_kes, int) or amount_kes < 1:
            raise ValueError(f"amount_kes must be a positive whole number, got {amount_kes!r}")
        msisdn = normalize_msisdn(phone)
        with self._lock:
            code = trans_id or self._ids.transaction_code()
            payload = c2b_payload(
                trans_id=code,
                paid_at=self._clock(),
                amount_kes=amount_kes,
                shortcode=self.shortcode,
                account=account,
                balance_kes=self._balance_kes + amount_kes,
                msisdn=msisdn,
                first_name=first_name,
            )
            validation_url = self.validation_url if self.external_validation else None
            confirmation_url = self.confirmation_url
            response_type = self.response_type or "Completed"
        validation = None
        accepted, reason = True, "no validation URL registered"
        if validation_url is not None:
            validation = self._post("c2b_validation", validation_url, payload)
            accepted, reason = _validation_verdict(validation, response_type)
        confirmation = None
        if accepted:
            with self._lock:
                self._balance_kes += amount_kes
                self.c2b_payments[code] = payload
            if confirmation_url is not None:
                confirmation = self._post("c2b_confirmation", confirmation_url, payload)
        return C2BOutcome(code, accepted, reason, payload, validation, confirmation)

    def redeliver_confirmation(self, trans_id: str) -> SentCallback:
        """Post the same confirmation again, as Safaricom does when it retries."""
        with self._lock:
            payload = self.c2b_payments[trans_id]
            url = self.confirmation_url
        if url is None:
            raise ValueError("no ConfirmationURL registered")
        return self._post("c2b_confirmation", url, payload)

    def wait_for_callbacks(
        self, count: int, *, kind: CallbackKind | None = None, timeout: float = 10.0
    ) -> list[SentCallback]:
        """Block until at least `count` callbacks (of `kind`) were sent; TimeoutError otherwise."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                matching = [c for c in self.callbacks_sent if kind is None or c.kind == kind]
                if len(matching) >= count:
                    return matching
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(
                        f"expected {count} {kind or ''} callbacks within {timeout}s, "
                        f"got {len(matching)}"
                    )
                self._lock.wait(remaining)

    def close(self) -> None:
        """Stop callback delivery and close the outgoing HTTP client."""
        self._jobs.stop()
        with self._lock:
            http, self._http = self._http, None
        if http is not None:
            http.close()

    # --- HTTP app -----------------------------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        """A JSON-able summary of the fake's state (served at GET /_fake/state)."""
        with self._lock:
            checkouts = {
                key: {
                    "phone": checkout.phone,
                    "amount_kes": checkout.amount_kes,
                    "outcome": checkout.outcome.value,
                    "result_code": checkout.result_code,
                    "receipt_number": checkout.receipt_number,
                }
                for key, checkout in self.checkouts.items()
            }
            return {
                "checkouts": checkouts,
                "c2b_payments": list(self.c2b_payments),
                "callbacks_sent": len(self.callbacks_sent),
                "confirmation_url": self.confirmation_url,
                "validation_url": self.validation_url,
            }

    @property
    def app(self) -> Starlette:
        """The Starlette app speaking Daraja's wire format plus the /_fake control endpoints."""
        if self._app is None:
            self._app = build_app(self)
        return self._app

    # --- Daraja operations: the routes translate HTTP to and from these -----------------------
    # Each one raises FakeRequestError for what Daraja would refuse.

    def issue_token(self, grant_type: str | None, authorization: str) -> dict[str, str]:
        """GET /oauth/v1/generate: check Basic credentials and issue a bearer token."""
        with self._lock:
            self.token_requests += 1
        if grant_type != "client_credentials":
            raise FakeRequestError("400.008.02", "Invalid grant type passed")
        if not self._basic_auth_ok(authorization):
            raise FakeRequestError("400.008.01", "Invalid Authentication passed")
        token = secrets.token_urlsafe(24)
        with self._lock:
            self._tokens[token] = time.monotonic() + self.token_ttl_seconds
        # expires_in is a string on the real wire.
        return {"access_token": token, "expires_in": str(self.token_ttl_seconds)}

    def check_token(self, authorization: str) -> None:
        """Refuse a missing, unknown or expired bearer token, as Daraja does."""
        scheme, _, token = authorization.partition(" ")
        with self._lock:
            expires_at = self._tokens.get(token) if scheme.lower() == "bearer" else None
        if expires_at is None or expires_at <= time.monotonic():
            raise FakeRequestError("404.001.03", "Invalid Access Token", http_status=404)

    def accept_stk_push(self, body: dict[str, Any]) -> dict[str, str]:
        """POST processrequest: validate, record the checkout and schedule its callback."""
        with self._lock:
            self.stk_requests.append(body)
        phone, amount_kes = validate_stk_push(body, self.shortcode, self.passkey)
        with self._lock:
            outcome, delay = self._outcome_for(phone)
            checkout = Checkout(
                merchant_request_id=self._ids.merchant_request_id(),
                checkout_request_id=self._ids.checkout_request_id(self._clock()),
                phone=phone,
                amount_kes=amount_kes,
                account_reference=body["AccountReference"],
                callback_url=body["CallBackURL"],
                outcome=outcome,
            )
            self.checkouts[checkout.checkout_request_id] = checkout
        if outcome is not StkOutcome.NEVER:
            checkout_id = checkout.checkout_request_id
            self._jobs.submit(delay, lambda: self._finish(checkout_id))
        message = "Success. Request accepted for processing"
        return {
            "MerchantRequestID": checkout.merchant_request_id,
            "CheckoutRequestID": checkout.checkout_request_id,
            "ResponseCode": "0",
            "ResponseDescription": message,
            "CustomerMessage": message,
        }

    def query_stk_push(self, body: dict[str, Any]) -> dict[str, str]:
        """POST stkpushquery: the 500.001.1001 error while processing, else the result."""
        with self._lock:
            self.stk_query_requests.append(body)
        require_password(body, self.shortcode, self.passkey)
        with self._lock:
            checkout = self.checkouts.get(str(body.get("CheckoutRequestID")))
            if checkout is None:
                raise FakeRequestError(BAD_REQUEST_CODE, "Bad Request - Invalid CheckoutRequestID")
            if not checkout.done:
                raise FakeRequestError(
                    "500.001.1001", "The transaction is being processed", http_status=500
                )
            return {
                "ResponseCode": "0",
                # Daraja's own spelling.
                "ResponseDescription": "The service request has been accepted successsfully",
                "MerchantRequestID": checkout.merchant_request_id,
                "CheckoutRequestID": checkout.checkout_request_id,
                "ResultCode": str(checkout.result_code),
                "ResultDesc": checkout.result_desc,
            }

    def register_urls(self, body: dict[str, Any]) -> dict[str, str]:
        """POST registerurl: remember where to post C2B validations and confirmations.

        Like Daraja, refuses URLs containing "mpesa", "m-pesa" or "safaricom" in any case.
        """
        if str(body.get("ShortCode")) != self.shortcode:
            raise FakeRequestError(BAD_REQUEST_CODE, "Bad Request - Invalid ShortCode")
        if body.get("ResponseType") not in ("Completed", "Cancelled"):
            raise FakeRequestError(BAD_REQUEST_CODE, "Bad Request - Invalid ResponseType")
        for key in ("ConfirmationURL", "ValidationURL"):
            if not is_acceptable_callback_url(body.get(key)):
                raise FakeRequestError(BAD_REQUEST_CODE, f"Bad Request - Invalid {key}")
        with self._lock:
            self.confirmation_url = body["ConfirmationURL"]
            self.validation_url = body["ValidationURL"]
            self.response_type = body["ResponseType"]
            conversation_id = self._ids.conversation_id()
        # "OriginatorCoversationID" (sic) is how Daraja spells it.
        return {
            "OriginatorCoversationID": conversation_id,
            "ResponseCode": "0",
            "ResponseDescription": "Success",
        }

    # --- internals ----------------------------------------------------------------------------

    def _basic_auth_ok(self, header: str) -> bool:
        scheme, _, encoded = header.partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            decoded = base64.b64decode(encoded, validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return False
        key, _, secret = decoded.partition(":")
        return secrets.compare_digest(key, self.consumer_key) and secrets.compare_digest(
            secret, self.consumer_secret
        )

    def _outcome_for(self, phone: str) -> tuple[StkOutcome, float]:
        outcome, delay = self._phone_outcomes.get(phone, (self._default_outcome, None))
        return outcome, self._default_delay if delay is None else delay

    def _finish(self, checkout_request_id: str) -> SentCallback | None:
        """Settle a checkout with its outcome and POST the STK callback."""
        with self._lock:
            checkout = self.checkouts[checkout_request_id]
            if checkout.done or checkout.outcome is StkOutcome.NEVER:
                return None
            result_code, result_desc = _RESULTS[checkout.outcome]
            checkout.result_code, checkout.result_desc = result_code, result_desc
            paid = result_code == 0
            if paid:
                checkout.receipt_number = self._ids.transaction_code()
            payload = stk_callback_payload(
                merchant_request_id=checkout.merchant_request_id,
                checkout_request_id=checkout.checkout_request_id,
                result_code=result_code,
                result_desc=result_desc,
                amount_kes=checkout.amount_kes if paid else None,
                receipt_number=checkout.receipt_number,
                paid_at=self._clock() if paid else None,
                phone=checkout.phone if paid else None,
            )
            url = checkout.callback_url
        return self._post("stk", url, payload)

    def _client(self) -> httpx.Client:
        with self._lock:
            if self._http is None:
                self._http = httpx.Client(timeout=self.callback_timeout_seconds)
            return self._http

    def _post(self, kind: CallbackKind, url: str, payload: dict[str, Any]) -> SentCallback:
        """POST `payload` to one of our URLs and record what came back."""
        try:
            response = self._client().post(url, json=payload)
        except httpx.HTTPError as exc:
            sent = SentCallback(kind, url, payload, None, "", error=f"{type(exc).__name__}: {exc}")
        else:
            sent = SentCallback(kind, url, payload, response.status_code, response.text)
        with self._lock:
            self.callbacks_sent.append(sent)
            self._lock.notify_all()
        log.debug("fake Daraja sent %s to %s -> %s", kind, url, sent.status_code)
        return sent


def _validation_verdict(sent: SentCallback, response_type: str) -> tuple[bool, str]:
    """Decide a C2B payment from our validation answer, as M-Pesa would."""
    answer: Any = None
    if sent.status_code is not None and 200 <= sent.status_code < 300:
        with contextlib.suppress(ValueError):
            answer = json.loads(sent.response_body)
    if not isinstance(answer, dict):
        # Unreachable or unreadable validation: M-Pesa applies the registered ResponseType.
        return response_type == "Completed", f"validation failed; applied {response_type}"
    code = answer.get("ResultCode")
    if code in ("0", 0):
        return True, str(answer.get("ResultDesc", "Accepted"))
    return False, f"{code}: {answer.get('ResultDesc', '')}"


class FakeDarajaServer:
    """Serve a FakeDaraja on 127.0.0.1 at a free port in a background thread.

    Starts on construction; stop() (or leaving the `with` block) stops the server and the
    callback threads.
    """

    def __init__(
        self, fake: FakeDaraja | None = None, *, host: str = "127.0.0.1", **fake_options: Any
    ) -> None:
        self.fake = fake if fake is not None else FakeDaraja(**fake_options)
        self._server = BackgroundServer(self.fake.app, host=host).start()
        self.base_url = self._server.base_url

    def daraja_config(self, **overrides: Any) -> DarajaConfig:
        """A DarajaConfig pointing at this server with the fake's credentials."""
        return self.fake.daraja_config(self.base_url, **overrides)

    def stop(self) -> None:
        self._server.stop()
        self.fake.close()

    def __enter__(self) -> FakeDarajaServer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def run_fake_daraja(
    host: str = "127.0.0.1", port: int = 8099, *, fake: FakeDaraja | None = None, **options: Any
) -> None:
    """Serve a fake Daraja until interrupted (for the CLI demo)."""
    daraja = fake if fake is not None else FakeDaraja(**options)
    log.info("fake Daraja on http://%s:%s (shortcode %s)", host, port, daraja.shortcode)
    try:
        uvicorn.run(daraja.app, host=host, port=port, log_level="info")
    finally:
        daraja.close()
