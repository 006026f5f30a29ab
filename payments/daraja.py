"""A small typed client for Safaricom Daraja: OAuth, STK push, STK query and C2B URL registration.

Plain values in, frozen dataclasses out. Every failure is a DarajaError:

- DarajaUnavailable: timeouts, connection errors, HTTP 5xx/429 and unreadable answers. Retrying
  later may help.
- DarajaOutcomeUnknown (a DarajaUnavailable): the request was sent but its answer never came
  (a read timeout, a connection cut mid-answer). Daraja may have acted on it: an STK push
  may be on the phone, so it must not be sent again blindly.
- DarajaRejected: Daraja understood the request and said no (HTTP 4xx, a non-zero ResponseCode,
  an `errorCode`/`errorMessage` body). Its message quotes Daraja verbatim.
- DarajaAuthFailed: the consumer key/secret were refused, or a fresh token was refused.

Bad input (a phone number that is not Kenyan, an amount below 1 KES, an over-long account
reference) raises ValueError (InvalidPhoneNumber for phones) before any network call.
The consumer secret and the passkey are never logged nor put in exception messages.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

import httpx

from payments.phone import normalize_msisdn
from payments.wire import format_daraja_time, stk_password

__all__ = [
    "PAYBILL",
    "PRODUCTION_BASE_URL",
    "SANDBOX_BASE_URL",
    "TILL",
    "DarajaAuthFailed",
    "DarajaClient",
    "DarajaConfig",
    "DarajaError",
    "DarajaOutcomeUnknown",
    "DarajaRejected",
    "DarajaUnavailable",
    "StkPushAccepted",
    "StkQueryResult",
    "StkQueryStatus",
    "transaction_desc",
]

log = logging.getLogger(__name__)

SANDBOX_BASE_URL = "https://sandbox.safaricom.co.ke"
PRODUCTION_BASE_URL = "https://api.safaricom.co.ke"
PAYBILL = "CustomerPayBillOnline"
TILL = "CustomerBuyGoodsOnline"

OAUTH_PATH = "/oauth/v1/generate"
STK_PUSH_PATH = "/mpesa/stkpush/v1/processrequest"
STK_QUERY_PATH = "/mpesa/stkpushquery/v1/query"
# A v2 path exists with the same body, but integrators report "product mismatch" errors on it
# and Safaricom API support steering them back to v1 (navariltd/frappe-mpsa-payments#56, #58).
C2B_REGISTER_PATH = "/mpesa/c2b/v1/registerurl"

MAX_ACCOUNT_REFERENCE_CHARS = 12
MAX_TRANSACTION_DESC_CHARS = 13
# Refresh the token a minute before Daraja says it expires, so a request never races expiry.
TOKEN_REFRESH_MARGIN = timedelta(seconds=60)
# Daraja's documented token lifetime; used only if `expires_in` is missing or unreadable.
DEFAULT_TOKEN_LIFETIME = timedelta(seconds=3599)

# Daraja answers an STK query for a push the customer has not finished yet with HTTP 500 and
# errorCode 500.001.1001. The same code is also used for real faults ("Wrong credentials",
# "Merchant does not exist"), so the message decides.
_PROCESSING_ERROR_CODE = "500.001.1001"
_PROCESSING_MESSAGE = "being processed"
# Newer deployments answer a still-running push with ResultCode 4999 ("still under processing").
_PROCESSING_RESULT_CODES = frozenset({4999})
_INVALID_TOKEN_CODES = frozenset({"404.001.03", "400.003.01", "401.001.02", "401.001.03"})

Clock = Callable[[], datetime]


def _utc_now() -> datetime:
    return datetime.now(UTC)


class DarajaError(Exception):
    """Any failure talking to Daraja. `http_status` and `error_code` are set when known."""

    def __init__(
        self, message: str, *, http_status: int | None = None, error_code: str | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.http_status = http_status
        self.error_code = error_code


class DarajaUnavailable(DarajaError):
    """Daraja could not be reached or answered with a server error; retrying later may help."""


class DarajaOutcomeUnknown(DarajaUnavailable):
    """The request went out but no answer came back: Daraja may have carried it out."""


class DarajaRejected(DarajaError):
    """Daraja refused the request; the message quotes Daraja's own words."""


class DarajaAuthFailed(DarajaError):
    """Daraja refused our consumer key/secret (or the token it had just issued)."""


@dataclass(frozen=True, kw_only=True)
class DarajaConfig:
    """Credentials and settings for one Daraja app and one M-Pesa shortcode.

    `shortcode` is the BusinessShortCode: the paybill number, or the store (head office)
    number for a till. For a till, `till_number` is the PartyB that receives the money; for a
    paybill PartyB is the shortcode itself.
    """

    consumer_key: str = field(repr=False)
    consumer_secret: str = field(repr=False)
    shortcode: str
    passkey: str = field(repr=False)
    transaction_type: str = PAYBILL
    till_number: str | None = None
    base_url: str = SANDBOX_BASE_URL
    timeout_seconds: float = 10.0

    def __post_init__(self) -> None:
        if not self.consumer_key or not self.consumer_secret:
            raise ValueError("Daraja consumer key and consumer secret are required")
        if not self.passkey:
            raise ValueError("Daraja passkey is required")
        if not self.shortcode.isdigit() or not self.shortcode.isascii():
            raise ValueError(f"shortcode must be digits, got {self.shortcode!r}")
        if self.transaction_type not in (PAYBILL, TILL):
            raise ValueError(f"transaction_type must be {PAYBILL!r} or {TILL!r}")
        if self.transaction_type == TILL and not (
            self.till_number and self.till_number.isdigit() and self.till_number.isascii()
        ):
            raise ValueError("a till (CustomerBuyGoodsOnline) needs till_number as digits")
        if not self.base_url.startswith(("https://", "http://")):
            raise ValueError(f"base_url must be an http(s) URL, got {self.base_url!r}")
        if self.timeout_seconds <= 0:
            raise ValueError("timeout_seconds must be positive")

    @property
    def party_b(self) -> str:
        """Who receives the money: the till number for a till, else the paybill shortcode."""
        if self.transaction_type == TILL and self.till_number:
            return self.till_number
        return self.shortcode


@dataclass(frozen=True)
class StkPushAccepted:
    """Daraja accepted the push for processing; the customer has NOT paid yet."""

    merchant_request_id: str
    checkout_request_id: str
    response_code: str
    response_description: str
    customer_message: str


class StkQueryStatus(StrEnum):
    PENDING = "pending"
    PAID = "paid"
    FAILED = "failed"


@dataclass(frozen=True)
class StkQueryResult:
    """Where an STK push stands. `result_code` is None while pending."""

    checkout_request_id: str
    status: StkQueryStatus
    result_code: int | None
    result_desc: str
    merchant_request_id: str | None = None

    @property
    def pending(self) -> bool:
        return self.status is StkQueryStatus.PENDING

    @property
    def paid(self) -> bool:
        return self.status is StkQueryStatus.PAID


@dataclass(frozen=True)
class _Token:
    value: str
    refresh_at: datetime


_UNSAFE_DESC_CHARS = re.compile(r"[^A-Za-z0-9 .,\-]")


def transaction_desc(text: str) -> str:
    """Make `text` a safe TransactionDesc: plain ASCII, single spaces, at most 13 characters."""
    cleaned = " ".join(_UNSAFE_DESC_CHARS.sub(" ", text).split())
    truncated = cleaned[:MAX_TRANSACTION_DESC_CHARS].rstrip()
    return truncated or "Payment"


def _check_amount(amount_kes: int) -> None:
    # bool is an int subclass; True shillings is a bug, not an amount.
    if isinstance(amount_kes, bool) or not isinstance(amount_kes, int):
        raise ValueError(f"amount_kes must be whole shillings (int), got {amount_kes!r}")
    if amount_kes < 1:
        raise ValueError(f"amount_kes must be at least 1, got {amount_kes}")


def _check_account_reference(account_reference: str) -> str:
    reference = account_reference.strip()
    if not reference:
        raise ValueError("account_reference must not be empty")
    if len(reference) > MAX_ACCOUNT_REFERENCE_CHARS:
        # Not truncated: the reference identifies the customer and must survive intact.
        raise ValueError(
            f"account_reference {reference!r} is longer than Daraja's "
            f"{MAX_ACCOUNT_REFERENCE_CHARS} characters"
        )
    return reference


def _check_callback_url(callback_url: str) -> None:
    if not callback_url.startswith(("https://", "http://")):
        raise ValueError(f"callback_url must be an http(s) URL, got {callback_url!r}")


def _json_object(response: httpx.Response) -> dict[str, Any] | None:
    try:
        body = response.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def _error_fields(body: dict[str, Any] | None) -> tuple[str | None, str | None]:
    if body is None:
        return None, None
    code = body.get("errorCode")
    message = body.get("errorMessage")
    return (
        str(code) if code is not None else None,
        str(message) if message is not None else None,
    )


def _describe(response: httpx.Response, body: dict[str, Any] | None) -> str:
    code, message = _error_fields(body)
    text = f"HTTP {response.status_code}"
    if code:
        text += f" {code}"
    if message:
        return f"{text}: {message}"
    snippet = response.text.strip()[:200]
    return f"{text}: {snippet}" if snippet else text


def _is_invalid_token(response: httpx.Response) -> bool:
    if response.status_code == 401:
        return True
    code, message = _error_fields(_json_object(response))
    return code in _INVALID_TOKEN_CODES or (
        message is not None and "invalid access token" in message.lower()
    )


def _is_processing(response: httpx.Response) -> bool:
    code, message = _error_fields(_json_object(response))
    return (
        code == _PROCESSING_ERROR_CODE
        and message is not None
        and _PROCESSING_MESSAGE in message.lower()
    )


def _parse_expires_in(value: object) -> timedelta:
    # Daraja sends "3599" (a string); accept a number too.
    try:
        seconds = int(str(value))
    except ValueError:
        return DEFAULT_TOKEN_LIFETIME
    return timedelta(seconds=seconds) if seconds > 0 else DEFAULT_TOKEN_LIFETIME


def _parse_result_code(value: object) -> int | None:
    if value is None or isinstance(value, bool):
        return None
    text = str(value).strip()
    return int(text) if re.fullmatch(r"-?[0-9]+", text) else None


def _required_text(body: dict[str, Any], key: str, operation: str) -> str:
    value = body.get(key)
    if not isinstance(value, str) or not value:
        raise DarajaUnavailable(f"{operation}: unexpected Daraja answer without {key}: {body}")
    return value


class DarajaClient:
    """Synchronous Daraja client; thread-safe (the OAuth token is shared behind a lock).

    `clock` returns the current aware time; it drives the STK Timestamp and token expiry.
    `http` may be injected (e.g. an httpx.Client with a MockTransport); it is then not closed.
    """

    def __init__(
        self,
        config: DarajaConfig,
        *,
        clock: Clock | None = None,
        http: httpx.Client | None = None,
    ) -> None:
        self._config = config
        self._clock = clock or _utc_now
        self._timeout = httpx.Timeout(config.timeout_seconds)
        self._http = http if http is not None else httpx.Client(timeout=self._timeout)
        self._owns_http = http is None
        self._base_url = config.base_url.rstrip("/")
        self._token_lock = threading.Lock()
        self._token: _Token | None = None

    @property
    def config(self) -> DarajaConfig:
        return self._config

    def close(self) -> None:
        """Close the HTTP connection pool if this client created it."""
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> DarajaClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # --- public API -------------------------------------------------------------------------

    def stk_push(
        self,
        phone: str,
        amount_kes: int,
        account_reference: str,
        description: str,
        callback_url: str,
    ) -> StkPushAccepted:
        """Ask Daraja to prompt `phone` for `amount_kes`; the result comes later to callback_url.

        Raises ValueError/InvalidPhoneNumber for bad input, DarajaError for Daraja failures.
        """
        msisdn = normalize_msisdn(phone)
        _check_amount(amount_kes)
        reference = _check_account_reference(account_reference)
        _check_callback_url(callback_url)
        config = self._config
        timestamp = format_daraja_time(self._clock())
        # Numbers where the published sample has numbers; Daraja also accepts digit strings.
        payload = {
            "BusinessShortCode": int(config.shortcode),
            "Password": stk_password(config.shortcode, config.passkey, timestamp),
            "Timestamp": timestamp,
            "TransactionType": config.transaction_type,
            "Amount": amount_kes,
            "PartyA": int(msisdn),
            "PartyB": int(config.party_b),
            "PhoneNumber": int(msisdn),
            "CallBackURL": callback_url,
            "AccountReference": reference,
            "TransactionDesc": transaction_desc(description),
        }
        response = self._post(STK_PUSH_PATH, payload, "STK push")
        body = self._body_or_raise(response, "STK push")
        self._raise_for_response_code(response, body, "STK push")
        return StkPushAccepted(
            merchant_request_id=_required_text(body, "MerchantRequestID", "STK push"),
            checkout_request_id=_required_text(body, "CheckoutRequestID", "STK push"),
            response_code=str(body.get("ResponseCode")),
            response_description=str(body.get("ResponseDescription", "")),
            customer_message=str(body.get("CustomerMessage", "")),
        )

    def stk_query(self, checkout_request_id: str) -> StkQueryResult:
        """Ask Daraja where an STK push stands: pending, paid, or failed (with ResultCode)."""
        if not checkout_request_id:
            raise ValueError("checkout_request_id must not be empty")
        config = self._config
        timestamp = format_daraja_time(self._clock())
        payload = {
            "BusinessShortCode": int(config.shortcode),
            "Password": stk_password(config.shortcode, config.passkey, timestamp),
            "Timestamp": timestamp,
            "CheckoutRequestID": checkout_request_id,
        }
        response = self._post(STK_QUERY_PATH, payload, "STK query")
        if _is_processing(response):
            _, message = _error_fields(_json_object(response))
            return StkQueryResult(
                checkout_request_id=checkout_request_id,
                status=StkQueryStatus.PENDING,
                result_code=None,
                result_desc=message or "The transaction is being processed",
            )
        body = self._body_or_raise(response, "STK query")
        self._raise_for_response_code(response, body, "STK query")
        result_code = _parse_result_code(body.get("ResultCode"))
        if result_code is None or result_code in _PROCESSING_RESULT_CODES:
            status = StkQueryStatus.PENDING
            result_code = None
        else:
            status = StkQueryStatus.PAID if result_code == 0 else StkQueryStatus.FAILED
        merchant_request_id = body.get("MerchantRequestID")
        return StkQueryResult(
            checkout_request_id=str(body.get("CheckoutRequestID") or checkout_request_id),
            status=status,
            result_code=result_code,
            result_desc=str(body.get("ResultDesc", "")),
            merchant_request_id=str(merchant_request_id) if merchant_request_id else None,
        )

    def register_c2b_urls(
        self, confirmation_url: str, validation_url: str, response_type: str = "Completed"
    ) -> dict[str, Any]:
        """Register where Safaricom posts paybill/till payments; returns Daraja's answer as is.

        `response_type` ("Completed" or "Cancelled") is what M-Pesa does with a payment when
        our validation URL cannot be reached in time.
        """
        if response_type not in ("Completed", "Cancelled"):
            raise ValueError("response_type must be 'Completed' or 'Cancelled'")
        _check_callback_url(confirmation_url)
        _check_callback_url(validation_url)
        payload = {
            "ShortCode": self._config.shortcode,
            "ResponseType": response_type,
            "ConfirmationURL": confirmation_url,
            "ValidationURL": validation_url,
        }
        response = self._post(C2B_REGISTER_PATH, payload, "C2B URL registration")
        body = self._body_or_raise(response, "C2B URL registration")
        self._raise_for_response_code(response, body, "C2B URL registration")
        return body

    # --- transport ----------------------------------------------------------------------------

    def _post(self, path: str, payload: dict[str, Any], operation: str) -> httpx.Response:
        """POST with the bearer token; on an invalid-token answer refetch the token once."""
        for attempt in (1, 2):
            token = self._bearer_token()
            response = self._send(
                "POST",
                path,
                operation,
                json=payload,
                headers={"Authorization": f"Bearer {token}"},
            )
            if not _is_invalid_token(response):
                return response
            self._forget_token(token)
            if attempt == 1:
                log.info("Daraja refused the cached access token for %s; refetching", operation)
        raise DarajaAuthFailed(
            f"{operation}: Daraja refused a freshly issued access token "
            f"({_describe(response, _json_object(response))})",
            http_status=response.status_code,
            error_code=_error_fields(_json_object(response))[0],
        )

    def _send(self, method: str, path: str, operation: str, **kwargs: Any) -> httpx.Response:
        url = self._base_url + path
        try:
            response = self._http.request(method, url, timeout=self._timeout, **kwargs)
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            # Nothing was sent: safe to try again.
            raise DarajaUnavailable(
                f"{operation}: cannot reach Daraja at {self._base_url}: {exc}"
            ) from exc
        except (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError) as exc:
            # The request (or part of it) went out; whether Daraja acted on it is unknown.
            raise DarajaOutcomeUnknown(
                f"{operation}: Daraja did not answer within {self._config.timeout_seconds:g}s"
                if isinstance(exc, httpx.TimeoutException)
                else f"{operation}: the connection to Daraja broke before it answered: {exc}"
            ) from exc
        except httpx.HTTPError as exc:
            raise DarajaUnavailable(
                f"{operation}: cannot reach Daraja at {self._base_url}: {exc}"
            ) from exc
        log.debug("Daraja %s -> HTTP %s", operation, response.status_code)
        return response

    def _body_or_raise(self, response: httpx.Response, operation: str) -> dict[str, Any]:
        body = _json_object(response)
        code, _ = _error_fields(body)
        status = response.status_code
        if status >= 500 or status == 429:
            raise DarajaUnavailable(
                f"{operation}: Daraja is unavailable ({_describe(response, body)})",
                http_status=status,
                error_code=code,
            )
        if status >= 400:
            raise DarajaRejected(
                f"{operation} rejected by Daraja ({_describe(response, body)})",
                http_status=status,
                error_code=code,
            )
        if body is None:
            raise DarajaUnavailable(
                f"{operation}: unreadable Daraja answer ({_describe(response, body)})",
                http_status=status,
            )
        return body

    def _raise_for_response_code(
        self, response: httpx.Response, body: dict[str, Any], operation: str
    ) -> None:
        code, message = _error_fields(body)
        response_code = body.get("ResponseCode")
        if code is not None or (response_code is not None and str(response_code) != "0"):
            description = message or body.get("ResponseDescription") or body
            raise DarajaRejected(
                f"{operation} rejected by Daraja "
                f"(ResponseCode {response_code if response_code is not None else code}): "
                f"{description}",
                http_status=response.status_code,
                error_code=code if code is not None else str(response_code),
            )

    # --- OAuth --------------------------------------------------------------------------------

    def _bearer_token(self) -> str:
        # Holding the lock while fetching means concurrent callers share one token request.
        with self._token_lock:
            now = self._clock()
            if self._token is None or now >= self._token.refresh_at:
                self._token = self._fetch_token(now)
            return self._token.value

    def _forget_token(self, token: str) -> None:
        with self._token_lock:
            # Another thread may already have replaced it with a fresh one; keep that.
            if self._token is not None and self._token.value == token:
                self._token = None

    def _fetch_token(self, now: datetime) -> _Token:
        config = self._config
        try:
            response = self._send(
                "GET",
                OAUTH_PATH,
                "OAuth",
                params={"grant_type": "client_credentials"},
                auth=(config.consumer_key, config.consumer_secret),
            )
        except DarajaOutcomeUnknown as lost:
            # A token asked for twice does no harm: the request that needs it was not sent.
            raise DarajaUnavailable(lost.message) from lost
        body = _json_object(response)
        status = response.status_code
        if status in (400, 401, 403):
            raise DarajaAuthFailed(
                "Daraja refused the consumer key/secret "
                f"({_describe(response, body)}); check the app's credentials and environment",
                http_status=status,
                error_code=_error_fields(body)[0],
            )
        body = self._body_or_raise(response, "OAuth")
        token = body.get("access_token")
        if not isinstance(token, str) or not token:
            raise DarajaUnavailable("OAuth: Daraja answered without an access_token")
        lifetime = _parse_expires_in(body.get("expires_in"))
        margin = min(TOKEN_REFRESH_MARGIN, lifetime / 2)
        log.debug("Fetched a Daraja access token valid for %s", lifetime)
        return _Token(value=token, refresh_at=now + lifetime - margin)
