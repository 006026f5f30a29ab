"""parse_stk_callback: the published samples, real-world variations, and malformed bodies."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from payments.callbacks import (
    MAX_CALLBACK_BYTES,
    MalformedCallback,
    StkCallback,
    parse_stk_callback,
)

SUCCESS = "daraja-stk-callback-success.json"
CANCELLED = "daraja-stk-callback-cancelled.json"


def _encode(document: Any) -> bytes:
    return json.dumps(document).encode()


def _items(document: dict[str, Any]) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = document["Body"]["stkCallback"]["CallbackMetadata"]["Item"]
    return items


def _set_item(document: dict[str, Any], name: str, value: Any) -> dict[str, Any]:
    for item in _items(document):
        if item["Name"] == name:
            item["Value"] = value
    return document


def _drop_item(document: dict[str, Any], name: str) -> dict[str, Any]:
    callback = document["Body"]["stkCallback"]
    items = [item for item in _items(document) if item["Name"] != name]
    callback["CallbackMetadata"]["Item"] = items
    return document


def test_success_sample_every_field(sample_bytes: Callable[[str], bytes]) -> None:
    parsed = parse_stk_callback(sample_bytes(SUCCESS))
    assert parsed == StkCallback(
        merchant_request_id="29115-34620561-1",
        checkout_request_id="ws_CO_191220191020363925",
        result_code=0,
        result_desc="The service request is processed successfully.",
        amount_kes=1,
        receipt_number="NLJ7RT61SV",
        # 2019-12-19 10:21:15 in Nairobi is 07:21:15 UTC.
        transaction_time=datetime(2019, 12, 19, 7, 21, 15, tzinfo=UTC),
        phone="+254708374149",
    )
    assert parsed.paid
    assert isinstance(parsed.amount_kes, int)


def test_cancelled_sample_has_no_payment(sample_bytes: Callable[[str], bytes]) -> None:
    parsed = parse_stk_callback(sample_bytes(CANCELLED))
    assert parsed == StkCallback(
        merchant_request_id="29115-34620561-1",
        checkout_request_id="ws_CO_191220191020363925",
        result_code=1032,
        result_desc="Request canceled by user.",
    )
    assert not parsed.paid
    assert parsed.amount_kes is None
    assert parsed.receipt_number is None


def test_numbers_sent_as_strings(sample_json: Callable[[str], Any]) -> None:
    document = sample_json(SUCCESS)
    document["Body"]["stkCallback"]["ResultCode"] = "0"
    _set_item(document, "Amount", "1")
    _set_item(document, "TransactionDate", "20191219102115")
    _set_item(document, "PhoneNumber", "254708374149")
    parsed = parse_stk_callback(_encode(document))
    assert parsed.result_code == 0
    assert parsed.amount_kes == 1
    assert parsed.transaction_time == datetime(2019, 12, 19, 7, 21, 15, tzinfo=UTC)
    assert parsed.phone == "+254708374149"


@pytest.mark.parametrize("amount", [1500, 1500.0, "1500", "1500.00", " 1500 "])
def test_amount_forms(sample_json: Callable[[str], Any], amount: Any) -> None:
    document = _set_item(sample_json(SUCCESS), "Amount", amount)
    assert parse_stk_callback(_encode(document)).amount_kes == 1500


def test_balance_item_without_value_is_fine(sample_json: Callable[[str], Any]) -> None:
    document = sample_json(SUCCESS)
    assert {"Name": "Balance"} in _items(document)
    assert parse_stk_callback(_encode(document)).amount_kes == 1


def test_extra_fields_and_items_are_ignored(sample_json: Callable[[str], Any]) -> None:
    document = sample_json(SUCCESS)
    document["Body"]["stkCallback"]["Extra"] = {"nested": [1, 2]}
    document["Unexpected"] = True
    _items(document).append({"Name": "NewThing", "Value": "x"})
    assert parse_stk_callback(_encode(document)).receipt_number == "NLJ7RT61SV"


def test_optional_time_and_phone_may_be_left_out(sample_json: Callable[[str], Any]) -> None:
    document = _drop_item(_drop_item(sample_json(SUCCESS), "TransactionDate"), "PhoneNumber")
    parsed = parse_stk_callback(_encode(document))
    assert parsed.transaction_time is None
    assert parsed.phone is None
    assert parsed.amount_kes == 1


def test_masked_phone_is_kept_out_not_fatal(sample_json: Callable[[str], Any]) -> None:
    document = _set_item(sample_json(SUCCESS), "PhoneNumber", "2547****149")
    assert parse_stk_callback(_encode(document)).phone is None


def test_result_desc_may_be_missing(sample_json: Callable[[str], Any]) -> None:
    document = sample_json(CANCELLED)
    del document["Body"]["stkCallback"]["ResultDesc"]
    assert parse_stk_callback(_encode(document)).result_desc == ""


def test_failure_with_stray_metadata_keeps_no_payment(sample_json: Callable[[str], Any]) -> None:
    document = sample_json(SUCCESS)
    document["Body"]["stkCallback"]["ResultCode"] = 1
    parsed = parse_stk_callback(_encode(document))
    assert parsed.result_code == 1
    assert parsed.amount_kes is None


def _success_without(name: str) -> Callable[[dict[str, Any]], Any]:
    return lambda document: _drop_item(document, name)


def _with_item(name: str, value: Any) -> Callable[[dict[str, Any]], Any]:
    return lambda document: _set_item(document, name, value)


def _with_callback(key: str, value: Any) -> Callable[[dict[str, Any]], Any]:
    def change(document: dict[str, Any]) -> dict[str, Any]:
        document["Body"]["stkCallback"][key] = value
        return document

    return change


def _without_callback(key: str) -> Callable[[dict[str, Any]], Any]:
    def change(document: dict[str, Any]) -> dict[str, Any]:
        del document["Body"]["stkCallback"][key]
        return document

    return change


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (_success_without("Amount"), "no Amount"),
        (_success_without("MpesaReceiptNumber"), "no MpesaReceiptNumber"),
        (_with_item("Amount", 1.5), "not a whole number"),
        (_with_item("Amount", "10.50"), "not a whole number"),
        (_with_item("Amount", -5), "must be positive"),
        (_with_item("Amount", 0), "must be positive"),
        (_with_item("Amount", "ten"), "must be an amount"),
        (_with_item("Amount", True), "boolean"),
        (_with_item("Amount", [1]), "must be an amount"),
        (_with_item("MpesaReceiptNumber", 12345), "MpesaReceiptNumber must be text"),
        (_with_item("MpesaReceiptNumber", "  "), "MpesaReceiptNumber must be text"),
        (_with_item("TransactionDate", 20191319102115), "TransactionDate is not a valid time"),
        (_with_item("TransactionDate", "yesterday"), "TransactionDate is not a valid time"),
        (_with_item("TransactionDate", {"a": 1}), "TransactionDate must be YYYYMMDDHHmmss"),
        (_with_item("PhoneNumber", [254708374149]), "PhoneNumber must be a number or text"),
        (_with_callback("ResultCode", "zero"), "ResultCode must be a whole number"),
        (_with_callback("ResultCode", 0.5), "ResultCode must be a whole number"),
        (_with_callback("ResultCode", None), "missing ResultCode"),
        (_without_callback("ResultCode"), "missing ResultCode"),
        (_without_callback("CheckoutRequestID"), "missing CheckoutRequestID"),
        (_with_callback("CheckoutRequestID", ""), "CheckoutRequestID is empty"),
        (_with_callback("MerchantRequestID", {"id": 1}), "MerchantRequestID must be text"),
        (_without_callback("CallbackMetadata"), "missing CallbackMetadata"),
        (_with_callback("CallbackMetadata", []), "CallbackMetadata must be an object"),
        (_with_callback("CallbackMetadata", {"Item": {}}), "Item must be an array"),
        (_with_callback("CallbackMetadata", {"Item": ["x"]}), r"Item\[0\] must be an object"),
        (_with_callback("CallbackMetadata", {"Item": [{"Value": 1}]}), r"Item\[0\] has no Name"),
    ],
)
def test_malformed_success_callbacks(
    sample_json: Callable[[str], Any],
    change: Callable[[dict[str, Any]], Any],
    reason: str,
) -> None:
    body = _encode(change(sample_json(SUCCESS)))
    with pytest.raises(MalformedCallback, match=reason) as caught:
        parse_stk_callback(body)
    assert caught.value.reason == str(caught.value)


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"", "empty"),
        (b"   ", "empty"),
        (b"not json", "not valid JSON"),
        (b'{"Body": ', "not valid JSON"),
        (b"\xff\xfe\x00garbage", "not UTF-8"),
        (b"[]", "must be a JSON object, got an array"),
        (b'"text"', "must be a JSON object, got a string"),
        (b"42", "must be a JSON object, got a number"),
        (b"null", "must be a JSON object, got null"),
        (b"{}", "missing Body"),
        (b'{"Body": []}', "Body must be an object"),
        (b'{"Body": {}}', "missing stkCallback"),
        (b'{"Body": {"stkCallback": "x"}}', "stkCallback must be an object"),
        (b'{"Body": {"stkCallback": {"ResultCode": NaN}}}', "not valid JSON"),
        (b"[" * 30_000 + b"]" * 30_000, "nested too deeply"),
    ],
)
def test_malformed_bodies(body: bytes, reason: str) -> None:
    with pytest.raises(MalformedCallback, match=reason):
        parse_stk_callback(body)


def test_bodies_over_the_limit_are_refused_before_parsing() -> None:
    one_megabyte = b'{"pad": "' + b"x" * (1024 * 1024) + b'"}'
    with pytest.raises(MalformedCallback, match="more than the 65536 allowed"):
        parse_stk_callback(one_megabyte)


def test_body_just_under_the_limit_is_parsed(sample_json: Callable[[str], Any]) -> None:
    document = sample_json(CANCELLED)
    base = len(_encode(document))
    document["pad"] = "x" * (MAX_CALLBACK_BYTES - base - len(', "pad": ""'))
    body = _encode(document)
    assert len(body) == MAX_CALLBACK_BYTES
    assert parse_stk_callback(body).result_code == 1032


def test_a_receipt_is_letters_and_digits_only() -> None:
    # Our own references (STKQ-ws_CO_…) must never be nameable by a callback.
    body = json.dumps(
        {
            "Body": {
                "stkCallback": {
                    "MerchantRequestID": "29115-1",
                    "CheckoutRequestID": "ws_CO_1",
                    "ResultCode": 0,
                    "ResultDesc": "ok",
                    "CallbackMetadata": {
                        "Item": [
                            {"Name": "Amount", "Value": 10},
                            {"Name": "MpesaReceiptNumber", "Value": "STKQ-ws_CO_1"},
                        ]
                    },
                }
            }
        }
    ).encode()
    with pytest.raises(MalformedCallback, match="is not an M-Pesa identifier"):
        parse_stk_callback(body)
