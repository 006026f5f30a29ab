"""Parsers for what Safaricom posts to us, and the answers it expects back.

Pure functions, no I/O. Tolerant of what real systems send (numbers as strings or numbers,
optional fields left out, extra fields) and strict about what mteja relies on: anything it
cannot trust raises MalformedCallback with a reason a person can read.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from core.messages import STK_RESULT_TEXT_EN, STK_RESULT_TEXT_SW, stk_result_text
from payments.phone import try_e164
from payments.wire import parse_daraja_time

__all__ = [
    "C2B_REJECTION_CODES",
    "MAX_CALLBACK_BYTES",
    "STK_RESULT_TEXT_EN",
    "STK_RESULT_TEXT_SW",
    "C2BPayment",
    "MalformedCallback",
    "StkCallback",
    "c2b_accept",
    "c2b_confirmation_ack",
    "c2b_reject",
    "parse_c2b",
    "parse_stk_callback",
    "stk_callback_ack",
    "stk_result_text",
]

# Real callbacks are well under 2 KB; anything this big is not from Safaricom.
MAX_CALLBACK_BYTES = 64 * 1024
# Far above any single M-Pesa transaction; a larger amount is not a real one.
MAX_CALLBACK_AMOUNT_KES = 1_000_000
# Safaricom's ids are 10 to 30 characters; our columns hold 64.
MAX_IDENTIFIER = 64
# Names, account references and phone hashes are short; nothing of ours holds more than this.
MAX_TEXT = 100
_IDENTIFIER_TEXT = re.compile(r"[A-Za-z0-9_.:\-]+")
# M-Pesa receipts (TransID, MpesaReceiptNumber) are letters and digits only, e.g. NLJ7RT61SV.
_RECEIPT_TEXT = re.compile(r"[A-Za-z0-9]+")
_INT32 = 2**31 - 1
_YEARS = range(2000, 2100)


class MalformedCallback(ValueError):
    """The body is not a callback we can trust; `reason` says why in plain words."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class StkCallback:
    """The outcome of one STK push. Payment fields are set only when result_code is 0.

    `phone` is E.164 (`+2547…`) or None when Safaricom left it out or masked it.
    `transaction_time` is an aware UTC datetime.
    """

    merchant_request_id: str
    checkout_request_id: str
    result_code: int
    result_desc: str
    amount_kes: int | None = None
    receipt_number: str | None = None
    transaction_time: datetime | None = None
    phone: str | None = None

    @property
    def paid(self) -> bool:
        return self.result_code == 0


@dataclass(frozen=True)
class C2BPayment:
    """A paybill/till payment (validation or confirmation request; both have this shape).

    `msisdn` is kept exactly as sent: Safaricom now masks it (`2547 ***** 126`) or hashes it.
    `org_account_balance` is informational and kept verbatim (it carries cents, e.g. "49197.00").
    """

    transaction_type: str
    trans_id: str
    trans_time: datetime
    amount_kes: int
    business_short_code: str
    bill_ref_number: str
    invoice_number: str
    org_account_balance: str | None
    third_party_trans_id: str
    msisdn: str
    first_name: str
    middle_name: str
    last_name: str

    @property
    def phone(self) -> str | None:
        """The payer's number in E.164, or None when Safaricom masked or hashed it."""
        return try_e164(self.msisdn)

    @property
    def payer_name(self) -> str:
        """The payer's names as M-Pesa registered them, joined by single spaces."""
        parts = (self.first_name, self.middle_name, self.last_name)
        return " ".join(part.strip() for part in parts if part.strip())


# --- decoding ---------------------------------------------------------------------------------


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _load_object(body: bytes, what: str) -> dict[str, Any]:
    if not isinstance(body, bytes | bytearray):
        raise MalformedCallback(f"{what} body must be bytes, got {type(body).__name__}")
    if len(body) > MAX_CALLBACK_BYTES:
        raise MalformedCallback(
            f"{what} body is {len(body)} bytes, more than the {MAX_CALLBACK_BYTES} allowed"
        )
    if not body.strip():
        raise MalformedCallback(f"{what} body is empty")
    try:
        # Daraja sends UTF-8; json.loads would also guess UTF-16 and UTF-32, which it never is.
        text = bytes(body).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MalformedCallback(f"{what} body is not UTF-8: {exc.reason}") from None
    try:
        document = json.loads(text, parse_constant=_reject_constant)
    except RecursionError:
        raise MalformedCallback(f"{what} body is nested too deeply") from None
    except ValueError as exc:  # includes JSONDecodeError
        raise MalformedCallback(f"{what} body is not valid JSON: {exc}") from None
    if not isinstance(document, dict):
        raise MalformedCallback(f"{what} body must be a JSON object, got {_json_type(document)}")
    return document


def _json_type(value: object) -> str:
    names = {dict: "an object", list: "an array", str: "a string", bool: "a boolean"}
    if value is None:
        return "null"
    if isinstance(value, int | float) and not isinstance(value, bool):
        return "a number"
    return names.get(type(value), type(value).__name__)


def _field(container: dict[str, Any], key: str, where: str) -> Any:
    if key not in container or container[key] is None:
        raise MalformedCallback(f"{where} is missing {key}")
    return container[key]


def _object(container: dict[str, Any], key: str, where: str) -> dict[str, Any]:
    value = _field(container, key, where)
    if not isinstance(value, dict):
        raise MalformedCallback(f"{where}.{key} must be an object, got {_json_type(value)}")
    return value


def _text(
    container: dict[str, Any],
    key: str,
    where: str,
    *,
    required: bool = True,
    limit: int = MAX_TEXT,
    cut: bool = False,
) -> str:
    """A string field. Optional ones default to ""; a number is accepted and stringified.

    Text longer than ``limit`` is refused (or, with ``cut``, shortened: a long description is no
    reason to refuse a payment); a NUL anywhere is refused (no database keeps it in text).
    """
    if key not in container or container[key] is None:
        if required:
            raise MalformedCallback(f"{where} is missing {key}")
        return ""
    value = container[key]
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise MalformedCallback(f"{where}.{key} must be text, got {_json_type(value)}")
    if isinstance(value, int) and abs(value) >= 10**limit:
        raise MalformedCallback(f"{where}.{key} is longer than {limit} characters")
    text = str(value).strip()
    if "\x00" in text:
        raise MalformedCallback(f"{where}.{key} contains a NUL character")
    if len(text) > limit:
        if not cut:
            raise MalformedCallback(f"{where}.{key} is longer than {limit} characters")
        text = text[:limit]
    if required and not text:
        raise MalformedCallback(f"{where}.{key} is empty")
    return text


def _identifier(
    container: dict[str, Any], key: str, where: str, pattern: re.Pattern[str] | None = None
) -> str:
    """An id Safaricom made (CheckoutRequestID: letters, digits, _ - . :; a receipt: letters
    and digits only, so no callback can name one of our own references such as STKQ-…)."""
    text = _text(container, key, where, limit=MAX_IDENTIFIER)
    if not (pattern or _IDENTIFIER_TEXT).fullmatch(text):
        raise MalformedCallback(f"{where}.{key} {text[:40]!r} is not an M-Pesa identifier")
    return text


# Bounded so absurd inputs are refused rather than turned into enormous integers.
_INTEGER_TEXT = re.compile(r"-?[0-9]{1,18}")
_AMOUNT_TEXT = re.compile(r"[0-9]{1,15}(\.[0-9]{1,6})?")


def _integer(value: object, label: str) -> int:
    """An integer sent as a number (1032, 1032.0) or as text ("1032")."""
    if isinstance(value, bool):
        raise MalformedCallback(f"{label} must be a whole number, got a boolean")
    number: int | None = None
    if isinstance(value, int):
        number = value
    elif isinstance(value, float) and math.isfinite(value) and value.is_integer():
        number = int(value)
    elif isinstance(value, str) and _INTEGER_TEXT.fullmatch(value.strip()):
        number = int(value.strip())
    if number is None:
        raise MalformedCallback(f"{label} must be a whole number, got {str(value)[:40]!r}")
    if abs(number) > _INT32:
        raise MalformedCallback(f"{label} {number} is out of range")
    return number


def _amount_kes(value: object, label: str) -> int:
    """Whole shillings from 10, 1.00, "10" or "10.00"; fractions, zero and negatives are refused."""
    if isinstance(value, bool):
        raise MalformedCallback(f"{label} must be an amount, got a boolean")
    if isinstance(value, int):
        amount = Decimal(value)
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise MalformedCallback(f"{label} must be a finite amount, got {value!r}")
        amount = Decimal(str(value))
    elif isinstance(value, str) and _AMOUNT_TEXT.fullmatch(value.strip()):
        try:
            amount = Decimal(value.strip())
        except InvalidOperation:  # pragma: no cover - the regex admits only decimals
            raise MalformedCallback(f"{label} is not a number: {value!r}") from None
    else:
        raise MalformedCallback(f"{label} must be an amount in KES, got {value!r}")
    if amount != amount.to_integral_value():
        raise MalformedCallback(f"{label} {value!r} is not a whole number of shillings")
    if amount <= 0:
        raise MalformedCallback(f"{label} must be positive, got {value!r}")
    if amount > MAX_CALLBACK_AMOUNT_KES:
        raise MalformedCallback(
            f"{label} {value!r} is more than any M-Pesa payment (KES {MAX_CALLBACK_AMOUNT_KES:,})"
        )
    return int(amount)


def _daraja_time(value: object, label: str) -> datetime:
    """Kenyan local YYYYMMDDHHmmss, as a number or text, into aware UTC."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise MalformedCallback(f"{label} must be YYYYMMDDHHmmss, got {_json_type(value)}")
    text = str(value).strip()
    try:
        moment = parse_daraja_time(text)
    except (ValueError, OverflowError) as exc:
        raise MalformedCallback(f"{label} is not a valid time: {exc}") from None
    if moment.year not in _YEARS:
        raise MalformedCallback(f"{label} {text!r} is not a time M-Pesa could have paid at")
    return moment


# --- STK callback -----------------------------------------------------------------------------


def parse_stk_callback(body: bytes) -> StkCallback:
    """Parse the JSON Safaricom posts to an STK push CallBackURL.

    Raises MalformedCallback when the body is not a readable STK callback, or when a success
    (ResultCode 0) lacks the amount or the M-Pesa receipt number.
    """
    document = _load_object(body, "STK callback")
    envelope = _object(document, "Body", "STK callback")
    callback = _object(envelope, "stkCallback", "STK callback Body")
    where = "stkCallback"
    result_code = _integer(_field(callback, "ResultCode", where), "stkCallback.ResultCode")
    parsed = StkCallback(
        merchant_request_id=_identifier(callback, "MerchantRequestID", where),
        checkout_request_id=_identifier(callback, "CheckoutRequestID", where),
        result_code=result_code,
        result_desc=_text(callback, "ResultDesc", where, required=False, limit=500, cut=True),
    )
    if result_code != 0:
        # Failures carry no payment; whatever metadata came along is not ours to trust.
        return parsed
    items = _metadata_items(callback)
    if "Amount" not in items:
        raise MalformedCallback("successful STK callback has no Amount")
    if "MpesaReceiptNumber" not in items:
        raise MalformedCallback("successful STK callback has no MpesaReceiptNumber")
    receipt = items["MpesaReceiptNumber"]
    if not isinstance(receipt, str) or not receipt.strip():
        raise MalformedCallback(f"MpesaReceiptNumber must be text, got {str(receipt)[:40]!r}")
    receipt = _identifier(items, "MpesaReceiptNumber", "CallbackMetadata", _RECEIPT_TEXT)
    transaction_date = items.get("TransactionDate")
    return StkCallback(
        merchant_request_id=parsed.merchant_request_id,
        checkout_request_id=parsed.checkout_request_id,
        result_code=0,
        result_desc=parsed.result_desc,
        amount_kes=_amount_kes(items["Amount"], "Amount"),
        receipt_number=receipt.strip(),
        transaction_time=(
            None if transaction_date is None else _daraja_time(transaction_date, "TransactionDate")
        ),
        phone=_stk_phone(items.get("PhoneNumber")),
    )


def _metadata_items(callback: dict[str, Any]) -> dict[str, Any]:
    """CallbackMetadata.Item as {Name: Value}; items without Value (e.g. Balance) are skipped."""
    metadata = _object(callback, "CallbackMetadata", "successful stkCallback")
    raw_items = _field(metadata, "Item", "CallbackMetadata")
    if not isinstance(raw_items, list):
        raise MalformedCallback(
            f"CallbackMetadata.Item must be an array, got {_json_type(raw_items)}"
        )
    items: dict[str, Any] = {}
    for index, item in enumerate(raw_items):
        if not isinstance(item, dict):
            raise MalformedCallback(
                f"CallbackMetadata.Item[{index}] must be an object, got {_json_type(item)}"
            )
        name = item.get("Name")
        if not isinstance(name, str):
            raise MalformedCallback(f"CallbackMetadata.Item[{index}] has no Name")
        if item.get("Value") is not None:
            items[name] = item["Value"]
    return items


def _stk_phone(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise MalformedCallback(f"PhoneNumber must be a number or text, got {_json_type(value)}")
    # A masked or foreign number is not a reason to drop a payment; we just don't keep it.
    return try_e164(str(value))


# --- C2B --------------------------------------------------------------------------------------


def parse_c2b(body: bytes) -> C2BPayment:
    """Parse a C2B validation or confirmation request (paybill/till payment).

    Raises MalformedCallback when a field we rely on is missing or wrong: TransID, TransTime,
    TransAmount (whole, positive shillings), BusinessShortCode, MSISDN, TransactionType.
    """
    document = _load_object(body, "C2B")
    where = "C2B payment"
    balance = document.get("OrgAccountBalance")
    if isinstance(balance, bool) or not isinstance(balance, str | int | float | None):
        raise MalformedCallback(f"OrgAccountBalance must be text, got {_json_type(balance)}")
    return C2BPayment(
        transaction_type=_text(document, "TransactionType", where),
        trans_id=_identifier(document, "TransID", where, _RECEIPT_TEXT),
        trans_time=_daraja_time(_field(document, "TransTime", where), "TransTime"),
        amount_kes=_amount_kes(_field(document, "TransAmount", where), "TransAmount"),
        business_short_code=_text(document, "BusinessShortCode", where),
        bill_ref_number=_text(document, "BillRefNumber", where, required=False),
        invoice_number=_text(document, "InvoiceNumber", where, required=False),
        # Informational only: kept as sent, within reason.
        org_account_balance=(
            (str(balance).strip().replace("\x00", "")[:MAX_TEXT] or None)
            if balance is not None
            else None
        ),
        third_party_trans_id=_text(document, "ThirdPartyTransID", where, required=False),
        msisdn=_text(document, "MSISDN", where),
        first_name=_text(document, "FirstName", where, required=False),
        middle_name=_text(document, "MiddleName", where, required=False),
        last_name=_text(document, "LastName", where, required=False),
    )


# --- answers Safaricom expects ----------------------------------------------------------------

C2B_REJECTION_CODES: dict[str, str] = {
    "C2B00011": "Invalid MSISDN",
    "C2B00012": "Invalid Account Number",
    "C2B00013": "Invalid Amount",
    "C2B00014": "Invalid KYC Details",
    "C2B00015": "Invalid Shortcode",
    "C2B00016": "Other Error",
}


def c2b_accept() -> dict[str, str]:
    """Validation answer that lets the payment go through."""
    return {"ResultCode": "0", "ResultDesc": "Accepted"}


def c2b_reject(code: str = "C2B00012", desc: str | None = None) -> dict[str, str]:
    """Validation answer that stops the payment; `code` is one of C2B_REJECTION_CODES."""
    if code not in C2B_REJECTION_CODES:
        known = ", ".join(sorted(C2B_REJECTION_CODES))
        raise ValueError(f"unknown C2B rejection code {code!r}; use one of {known}")
    return {"ResultCode": code, "ResultDesc": desc or C2B_REJECTION_CODES[code]}


def c2b_confirmation_ack() -> dict[str, int | str]:
    """Answer to a confirmation: we have recorded the payment."""
    return {"ResultCode": 0, "ResultDesc": "Success"}


def stk_callback_ack() -> dict[str, int | str]:
    """Answer to an STK callback (Safaricom ignores the body but wants a 200)."""
    return {"ResultCode": 0, "ResultDesc": "Accepted"}


# --- plain words for subscribers --------------------------------------------------------------
