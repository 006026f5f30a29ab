"""Odd callback input on SQLite and PostgreSQL (issue 14.6): every body is stored as the bytes
that came, and answered with a 4xx or a Daraja-shaped answer, never a 500; nothing odd is
credited.

Once 16 of 96 such bodies were answered 500 on PostgreSQL (amounts of 2^31 or 1e20, a TransID
over 64 characters, a NUL in text, a UTF-16 body whose raw store itself failed, TransTime
00010101000000, a 10,000-character FirstName or CheckoutRequestID).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

PRICE = 1500
KINDS = ("stk", "c2b_validation", "c2b_confirmation")


def _c2b(store: Any, account: str, **changes: Any) -> bytes:
    payload: dict[str, Any] = store.c2b(account, PRICE, "SOI0000001")
    payload.update(changes)
    return json.dumps(payload).encode()


def _stk(store: Any, checkout: str, **items: Any) -> bytes:
    payload = store.stk(checkout, "SOI0000002", PRICE)
    callback = payload["Body"]["stkCallback"]
    for name, value in items.items():
        if name in ("CheckoutRequestID", "MerchantRequestID", "ResultCode", "ResultDesc"):
            callback[name] = value
            continue
        for item in callback["CallbackMetadata"]["Item"]:
            if item["Name"] == name:
                item["Value"] = value
    return json.dumps(payload).encode()


Body = Callable[[Any, str, str], bytes]

ODD: dict[str, tuple[str, Body]] = {
    "amount 2^31": ("c2b_confirmation", lambda s, a, c: _c2b(s, a, TransAmount=str(2**31))),
    "amount 2^63 as a number": ("c2b_confirmation", lambda s, a, c: _c2b(s, a, TransAmount=2**63)),
    "amount 1e20": ("c2b_confirmation", lambda s, a, c: _c2b(s, a, TransAmount=1e20)),
    "amount '1e20'": ("c2b_confirmation", lambda s, a, c: _c2b(s, a, TransAmount="1e20")),
    "amount 10^400": (
        "c2b_confirmation",
        lambda s, a, c: _c2b(s, a).replace(
            b'"TransAmount": "1500.00"', b'"TransAmount": 1' + b"0" * 400
        ),
    ),
    "TransID of 65": ("c2b_confirmation", lambda s, a, c: _c2b(s, a, TransID="S" * 65)),
    "TransID with NUL": ("c2b_confirmation", lambda s, a, c: _c2b(s, a, TransID="SOI\x000001")),
    "TransID unicode": ("c2b_confirmation", lambda s, a, c: _c2b(s, a, TransID="SÖI0000001")),
    "FirstName of 10,000": ("c2b_confirmation", lambda s, a, c: _c2b(s, a, FirstName="W" * 10_000)),
    "FirstName with NUL": ("c2b_confirmation", lambda s, a, c: _c2b(s, a, FirstName="Wa\x00nji")),
    "BillRefNumber of 10,000": (
        "c2b_confirmation",
        lambda s, a, c: _c2b(s, a, BillRefNumber="M" * 10_000),
    ),
    "MSISDN of 10,000": ("c2b_confirmation", lambda s, a, c: _c2b(s, a, MSISDN="2" * 10_000)),
    "OrgAccountBalance huge": (
        "c2b_confirmation",
        lambda s, a, c: _c2b(s, a, OrgAccountBalance=1e308),
    ),
    "TransTime year 1": (
        "c2b_confirmation",
        lambda s, a, c: _c2b(s, a, TransTime="00010101000000"),
    ),
    "TransTime year 9999": (
        "c2b_confirmation",
        lambda s, a, c: _c2b(s, a, TransTime="99991231235959"),
    ),
    "TransTime month 13": (
        "c2b_confirmation",
        lambda s, a, c: _c2b(s, a, TransTime="20261301000000"),
    ),
    "UTF-16 body": (
        "c2b_confirmation",
        lambda s, a, c: _c2b(s, a).decode().encode("utf-16"),
    ),
    "UTF-32 body": ("c2b_confirmation", lambda s, a, c: _c2b(s, a).decode().encode("utf-32")),
    "NUL bytes": ("c2b_confirmation", lambda s, a, c: b"\x00" * 64),
    "Latin-1 name": ("c2b_confirmation", lambda s, a, c: _c2b(s, a).replace(b"John", b"J\xf6hn")),
    "validation amount 2^31": ("c2b_validation", lambda s, a, c: _c2b(s, a, TransAmount=2**31)),
    "validation UTF-16": ("c2b_validation", lambda s, a, c: _c2b(s, a).decode().encode("utf-16")),
    "validation FirstName of 10,000": (
        "c2b_validation",
        lambda s, a, c: _c2b(s, a, FirstName="W" * 10_000),
    ),
    "stk Amount 2^31": ("stk", lambda s, a, c: _stk(s, c, Amount=2**31)),
    "stk Amount 1e20": ("stk", lambda s, a, c: _stk(s, c, Amount=1e20)),
    "stk CheckoutRequestID of 10,000": (
        "stk",
        lambda s, a, c: _stk(s, c, CheckoutRequestID="ws_CO_" + "9" * 10_000),
    ),
    "stk CheckoutRequestID with NUL": (
        "stk",
        lambda s, a, c: _stk(s, c, CheckoutRequestID=c + "\x00"),
    ),
    "stk ResultCode 2^40": ("stk", lambda s, a, c: _stk(s, c, ResultCode=2**40)),
    "stk ResultDesc of 10,000": ("stk", lambda s, a, c: _stk(s, c, ResultDesc="x" * 10_000)),
    "stk receipt of 65": ("stk", lambda s, a, c: _stk(s, c, MpesaReceiptNumber="R" * 65)),
    "stk receipt with NUL": ("stk", lambda s, a, c: _stk(s, c, MpesaReceiptNumber="SOI\x00")),
    "stk TransactionDate year 1": ("stk", lambda s, a, c: _stk(s, c, TransactionDate=10101000000)),
    "stk PhoneNumber of 10,000": ("stk", lambda s, a, c: _stk(s, c, PhoneNumber="7" * 10_000)),
    "stk UTF-16 body": ("stk", lambda s, a, c: _stk(s, c).decode().encode("utf-16")),
}


def test_odd_input_is_stored_as_it_came_and_never_answered_500(
    web: Any, post: Any, store: Any, subtests: Any
) -> None:
    customer = store.customer()
    checkout = store.sent_push(customer.id, PRICE)
    client = web()
    for case, (kind, make_body) in ODD.items():
        with subtests.test(msg=case):
            body = make_body(store, customer.account_number, checkout)
            answer = post(client, kind, body)
            assert answer.status_code in (200, 400), answer.text
            reply = answer.json()
            assert "ResultCode" in reply and "ResultDesc" in reply
            stored = store.callbacks()[-1]
            assert stored.kind == kind and stored.raw == body
            if kind == "c2b_validation":
                assert reply["ResultCode"] not in (0, "0"), "odd input must not be accepted"
    # Odd as they were, the only money believed is the push's own and the paybill payment whose
    # only oddity was an informational field, each for its own amount, once.
    believed = {("SOI0000001", PRICE, customer.id), ("SOI0000002", PRICE, customer.id)}
    assert set(store.payments()) <= believed


JSON_LEAVES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False),
    st.text(max_size=80),
    st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=0x10FFFF), max_size=8),
)


@st.composite
def mutated(draw: st.DrawFn, payload: dict[str, Any]) -> bytes:
    """A real payload with a few fields replaced by anything JSON can hold (or dropped)."""
    document = json.loads(json.dumps(payload))
    target = document["Body"]["stkCallback"] if "Body" in document else document
    for key in draw(st.lists(st.sampled_from(sorted(target)), max_size=3)):
        if draw(st.booleans()):
            target[key] = draw(JSON_LEAVES)
        else:
            target.pop(key, None)
    encoding = draw(st.sampled_from(["utf-8", "utf-8", "utf-8", "utf-16", "latin-1"]))
    try:
        return json.dumps(document, ensure_ascii=False).encode(encoding)
    except UnicodeEncodeError:
        return json.dumps(document).encode()


@pytest.mark.parametrize("kind", KINDS)
def test_fuzzed_callbacks_are_stored_and_answered_without_a_500(
    web: Any, post: Any, store: Any, kind: str
) -> None:
    customer = store.customer()
    checkout = store.sent_push(customer.id, PRICE)
    client = web()
    real = (
        store.stk(checkout, "SOF0000001", PRICE)
        if kind == "stk"
        else store.c2b(customer.account_number, PRICE, "SOF0000002")
    )

    @settings(
        max_examples=40,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(body=mutated(real))
    def check(body: bytes) -> None:
        answer = post(client, kind, body)
        assert answer.status_code in (200, 400), (body[:200], answer.text)
        assert store.callbacks()[-1].raw == body

    check()
