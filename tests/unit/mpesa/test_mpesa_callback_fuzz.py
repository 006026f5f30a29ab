"""Whatever arrives at a callback URL, the parsers answer with a value or MalformedCallback."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from payments.callbacks import (
    C2BPayment,
    MalformedCallback,
    StkCallback,
    parse_c2b,
    parse_stk_callback,
)

PARSERS: tuple[Callable[[bytes], object], ...] = (parse_stk_callback, parse_c2b)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=20), children, max_size=5)
    ),
    max_leaves=20,
)

STK_KEYS = [
    "MerchantRequestID",
    "CheckoutRequestID",
    "ResultCode",
    "ResultDesc",
    "CallbackMetadata",
]
ITEM_NAMES = ["Amount", "MpesaReceiptNumber", "Balance", "TransactionDate", "PhoneNumber"]
C2B_KEYS = [
    "TransactionType",
    "TransID",
    "TransTime",
    "TransAmount",
    "BusinessShortCode",
    "BillRefNumber",
    "InvoiceNumber",
    "OrgAccountBalance",
    "ThirdPartyTransID",
    "MSISDN",
    "FirstName",
    "MiddleName",
    "LastName",
]


def _only_malformed(parse: Callable[[bytes], object], body: bytes) -> None:
    try:
        result = parse(body)
    except MalformedCallback as exc:
        assert exc.reason
    else:
        assert isinstance(result, StkCallback | C2BPayment)


@given(st.binary(max_size=2048))
def test_arbitrary_bytes(body: bytes) -> None:
    for parse in PARSERS:
        _only_malformed(parse, body)


@given(json_values)
def test_arbitrary_json(document: Any) -> None:
    body = json.dumps(document).encode()
    for parse in PARSERS:
        _only_malformed(parse, body)


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_stk_success_with_any_field_replaced(
    sample_json: Callable[[str], Any], data: st.DataObject
) -> None:
    document = sample_json("daraja-stk-callback-success.json")
    callback = document["Body"]["stkCallback"]
    if data.draw(st.booleans(), label="replace an item"):
        items = callback["CallbackMetadata"]["Item"]
        name = data.draw(st.sampled_from(ITEM_NAMES), label="item")
        for item in items:
            if item["Name"] == name:
                item["Value"] = data.draw(json_values, label="value")
    else:
        key = data.draw(st.sampled_from(STK_KEYS), label="key")
        callback[key] = data.draw(json_values, label="value")
    _only_malformed(parse_stk_callback, json.dumps(document).encode())


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_c2b_with_any_field_replaced(
    sample_json: Callable[[str], Any], data: st.DataObject
) -> None:
    document = sample_json("daraja-c2b-confirmation.json")
    key = data.draw(st.sampled_from(C2B_KEYS), label="key")
    document[key] = data.draw(json_values, label="value")
    _only_malformed(parse_c2b, json.dumps(document).encode())
