"""What the fake Daraja checks and builds on the wire: request validation, ids, payloads.

Kept apart from the server so the rules read in one place. Error texts follow Daraja's
`Bad Request - Invalid <Field>` style; they are what the real client must surface verbatim.
"""

from __future__ import annotations

import random
import re
import string
from datetime import datetime
from typing import Any

from payments.callback_urls import forbidden_word
from payments.daraja import PAYBILL, TILL
from payments.wire import format_daraja_time, kenya_tz, parse_daraja_time, stk_password

__all__ = [
    "BAD_REQUEST_CODE",
    "FakeRequestError",
    "IdFactory",
    "c2b_payload",
    "is_acceptable_callback_url",
    "mask_msisdn",
    "require_password",
    "stk_callback_payload",
    "validate_stk_push",
]

BAD_REQUEST_CODE = "400.002.02"
_MSISDN = re.compile(r"254[17][0-9]{8}")
_DIGITS = re.compile(r"[0-9]+")


class FakeRequestError(Exception):
    """A request the fake refuses: answered as a Daraja error body with `http_status`."""

    def __init__(self, error_code: str, error_message: str, http_status: int = 400) -> None:
        super().__init__(error_message)
        self.error_code = error_code
        self.error_message = error_message
        self.http_status = http_status


def _invalid(field: str) -> FakeRequestError:
    return FakeRequestError(BAD_REQUEST_CODE, f"Bad Request - Invalid {field}")


def _as_digits(value: object) -> str | None:
    """A number sent as a JSON number or as digit text; None for anything else."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int) and value >= 0:
        return str(value)
    if isinstance(value, str) and _DIGITS.fullmatch(value):
        return value
    return None


def require_password(body: dict[str, Any], shortcode: str, passkey: str) -> str:
    """Check BusinessShortCode, Timestamp and Password the way Daraja does; return the timestamp."""
    if _as_digits(body.get("BusinessShortCode")) != shortcode:
        raise _invalid("BusinessShortCode")
    timestamp = body.get("Timestamp")
    if not isinstance(timestamp, str):
        raise _invalid("Timestamp")
    try:
        parse_daraja_time(timestamp)
    except ValueError:
        raise _invalid("Timestamp") from None
    if body.get("Password") != stk_password(shortcode, passkey, timestamp):
        raise _invalid("Password")
    return timestamp


def validate_stk_push(body: dict[str, Any], shortcode: str, passkey: str) -> tuple[str, int]:
    """Validate a processrequest body; return (payer MSISDN, amount in KES)."""
    require_password(body, shortcode, passkey)
    transaction_type = body.get("TransactionType")
    if transaction_type not in (PAYBILL, TILL):
        raise _invalid("TransactionType")
    amount = _as_digits(body.get("Amount"))
    if amount is None or int(amount) < 1:
        raise _invalid("Amount")
    party_a = _as_digits(body.get("PartyA"))
    if party_a is None or not _MSISDN.fullmatch(party_a):
        raise _invalid("PartyA")
    party_b = _as_digits(body.get("PartyB"))
    if party_b is None or (transaction_type == PAYBILL and party_b != shortcode):
        raise _invalid("PartyB")
    phone = _as_digits(body.get("PhoneNumber"))
    if phone is None or not _MSISDN.fullmatch(phone):
        raise _invalid("PhoneNumber")
    if not is_acceptable_callback_url(body.get("CallBackURL")):
        raise _invalid("CallBackURL")
    reference = body.get("AccountReference")
    if not isinstance(reference, str) or not 1 <= len(reference) <= 12:
        raise _invalid("AccountReference")
    description = body.get("TransactionDesc")
    if not isinstance(description, str) or not 1 <= len(description) <= 13:
        raise _invalid("TransactionDesc")
    return phone, int(amount)


def is_acceptable_callback_url(url: object) -> bool:
    """An http(s) URL without the words Daraja filters out of callback URLs ("mpesa", ...)."""
    return (
        isinstance(url, str)
        and url.startswith(("http://", "https://"))
        and forbidden_word(url) is None
    )


def mask_msisdn(msisdn: str) -> str:
    """Mask a number the way Safaricom now sends C2B MSISDNs: `2547 ***** 126`."""
    return f"{msisdn[:4]} ***** {msisdn[-3:]}"


class IdFactory:
    """Unique Daraja-looking ids: receipts/TransIDs (`SKL4ABC123`), request ids. Not thread-safe."""

    def __init__(self, seed: int | None = None) -> None:
        self._random = random.Random(seed)
        self._codes: set[str] = set()
        self._serial = 0

    def transaction_code(self) -> str:
        """A fresh 10-character M-Pesa receipt / TransID, never repeated by this factory."""
        alphabet = string.ascii_uppercase + string.digits
        while True:
            code = "S" + "".join(self._random.choices(alphabet, k=9))
            if code not in self._codes:
                self._codes.add(code)
                return code

    def merchant_request_id(self) -> str:
        self._serial += 1
        left = self._random.randint(10000, 99999)
        middle = self._random.randint(10_000_000, 99_999_999)
        return f"{left}-{middle}-{self._serial}"

    def checkout_request_id(self, now: datetime) -> str:
        self._serial += 1
        local = now.astimezone(kenya_tz()).strftime("%d%m%Y%H%M%S")
        return f"ws_CO_{local}{self._serial:06d}"

    def conversation_id(self) -> str:
        self._serial += 1
        return f"{self._random.randint(1000, 9999)}-{self._random.randint(1000000, 9999999)}-1"


def stk_callback_payload(
    *,
    merchant_request_id: str,
    checkout_request_id: str,
    result_code: int,
    result_desc: str,
    amount_kes: int | None = None,
    receipt_number: str | None = None,
    paid_at: datetime | None = None,
    phone: str | None = None,
) -> dict[str, Any]:
    """The JSON Safaricom posts to an STK CallBackURL; metadata only when result_code is 0."""
    callback: dict[str, Any] = {
        "MerchantRequestID": merchant_request_id,
        "CheckoutRequestID": checkout_request_id,
        "ResultCode": result_code,
        "ResultDesc": result_desc,
    }
    if result_code == 0:
        if amount_kes is None or receipt_number is None or paid_at is None or phone is None:
            raise ValueError("a paid STK callback needs amount, receipt, time and phone")
        callback["CallbackMetadata"] = {
            "Item": [
                # Safaricom sends the amount as 1.00 (a float) and the rest as numbers.
                {"Name": "Amount", "Value": float(amount_kes)},
                {"Name": "MpesaReceiptNumber", "Value": receipt_number},
                {"Name": "Balance"},
                {"Name": "TransactionDate", "Value": int(format_daraja_time(paid_at))},
                {"Name": "PhoneNumber", "Value": int(phone)},
            ]
        }
    return {"Body": {"stkCallback": callback}}


def c2b_payload(
    *,
    trans_id: str,
    paid_at: datetime,
    amount_kes: int,
    shortcode: str,
    account: str,
    balance_kes: int,
    msisdn: str,
    first_name: str,
) -> dict[str, str]:
    """The JSON Safaricom posts to C2B validation and confirmation URLs (all values text)."""
    return {
        "TransactionType": "Pay Bill",
        "TransID": trans_id,
        "TransTime": format_daraja_time(paid_at),
        "TransAmount": str(amount_kes),
        "BusinessShortCode": shortcode,
        "BillRefNumber": account,
        "InvoiceNumber": "",
        "OrgAccountBalance": f"{balance_kes}.00",
        "ThirdPartyTransID": "",
        "MSISDN": mask_msisdn(msisdn),
        "FirstName": first_name,
        "MiddleName": "",
        "LastName": "",
    }
