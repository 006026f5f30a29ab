"""parse_c2b and the answers Safaricom expects back."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from payments.callbacks import (
    C2B_REJECTION_CODES,
    STK_RESULT_TEXT_EN,
    STK_RESULT_TEXT_SW,
    C2BPayment,
    MalformedCallback,
    c2b_accept,
    c2b_confirmation_ack,
    c2b_reject,
    parse_c2b,
    stk_callback_ack,
    stk_result_text,
)

CONFIRMATION = "daraja-c2b-confirmation.json"


def _encode(document: Any) -> bytes:
    return json.dumps(document).encode()


def test_confirmation_sample_every_field(sample_bytes: Callable[[str], bytes]) -> None:
    parsed = parse_c2b(sample_bytes(CONFIRMATION))
    assert parsed == C2BPayment(
        transaction_type="Pay Bill",
        trans_id="RKTQDM7W6S",
        # 2019-11-22 06:38:45 in Nairobi is 03:38:45 UTC.
        trans_time=datetime(2019, 11, 22, 3, 38, 45, tzinfo=UTC),
        amount_kes=10,
        business_short_code="600638",
        bill_ref_number="MTJ-4K7Q2D9",
        invoice_number="",
        org_account_balance="49197.00",
        third_party_trans_id="",
        msisdn="2547 ***** 126",
        first_name="John",
        middle_name="",
        last_name="",
    )
    # Safaricom masks the number, so we know the payer only by name.
    assert parsed.phone is None
    assert parsed.payer_name == "John"


@pytest.mark.parametrize("amount", ["10", "10.00", 10, 10.0, " 10 "])
def test_amount_forms(sample_json: Callable[[str], Any], amount: Any) -> None:
    document = sample_json(CONFIRMATION)
    document["TransAmount"] = amount
    assert parse_c2b(_encode(document)).amount_kes == 10


def test_numbers_where_text_is_usual(sample_json: Callable[[str], Any]) -> None:
    document = sample_json(CONFIRMATION)
    document.update(
        TransTime=20191122063845,
        BusinessShortCode=600638,
        BillRefNumber=12345,
        OrgAccountBalance=49197.5,
        MSISDN=254708374149,
    )
    parsed = parse_c2b(_encode(document))
    assert parsed.trans_time == datetime(2019, 11, 22, 3, 38, 45, tzinfo=UTC)
    assert parsed.business_short_code == "600638"
    assert parsed.bill_ref_number == "12345"
    assert parsed.org_account_balance == "49197.5"
    assert parsed.msisdn == "254708374149"
    assert parsed.phone == "+254708374149"


def test_optional_fields_may_be_left_out(sample_json: Callable[[str], Any]) -> None:
    document = sample_json(CONFIRMATION)
    for key in (
        "BillRefNumber",
        "InvoiceNumber",
        "OrgAccountBalance",
        "ThirdPartyTransID",
        "FirstName",
        "MiddleName",
        "LastName",
    ):
        del document[key]
    parsed = parse_c2b(_encode(document))
    assert parsed.bill_ref_number == ""
    assert parsed.org_account_balance is None
    assert parsed.payer_name == ""


def test_empty_balance_means_unknown(sample_json: Callable[[str], Any]) -> None:
    document = sample_json(CONFIRMATION)
    document["OrgAccountBalance"] = ""
    assert parse_c2b(_encode(document)).org_account_balance is None


def test_payer_name_joins_present_names(sample_json: Callable[[str], Any]) -> None:
    document = sample_json(CONFIRMATION)
    document.update(FirstName="Jane", MiddleName="", LastName=" Wanjiku ")
    assert parse_c2b(_encode(document)).payer_name == "Jane Wanjiku"


def test_extra_fields_are_ignored(sample_json: Callable[[str], Any]) -> None:
    document = sample_json(CONFIRMATION)
    document["SomethingNew"] = {"x": [1]}
    assert parse_c2b(_encode(document)).trans_id == "RKTQDM7W6S"


def _with(key: str, value: Any) -> Callable[[dict[str, Any]], dict[str, Any]]:
    def change(document: dict[str, Any]) -> dict[str, Any]:
        document[key] = value
        return document

    return change


def _without(key: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
    def change(document: dict[str, Any]) -> dict[str, Any]:
        del document[key]
        return document

    return change


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (_without("TransID"), "missing TransID"),
        (_with("TransID", ""), "TransID is empty"),
        (_without("TransAmount"), "missing TransAmount"),
        (_with("TransAmount", "10.50"), "not a whole number of shillings"),
        (_with("TransAmount", 10.5), "not a whole number of shillings"),
        (_with("TransAmount", "-10"), "must be an amount"),
        (_with("TransAmount", -10), "must be positive"),
        (_with("TransAmount", "0.00"), "must be positive"),
        (_with("TransAmount", 0), "must be positive"),
        (_with("TransAmount", "1e3"), "must be an amount"),
        (_with("TransAmount", "1,000"), "must be an amount"),
        (_with("TransAmount", None), "missing TransAmount"),
        (_with("TransAmount", False), "boolean"),
        (_with("TransAmount", "9" * 5000), "must be an amount"),
        (_without("TransTime"), "missing TransTime"),
        (_with("TransTime", "2019-11-22"), "TransTime is not a valid time"),
        (_with("TransTime", 1.5), "TransTime must be YYYYMMDDHHmmss"),
        (_without("MSISDN"), "missing MSISDN"),
        (_with("MSISDN", ["2547"]), "MSISDN must be text"),
        (_without("BusinessShortCode"), "missing BusinessShortCode"),
        (_without("TransactionType"), "missing TransactionType"),
        (_with("FirstName", {"x": 1}), "FirstName must be text"),
        (_with("BillRefNumber", True), "BillRefNumber must be text"),
        (_with("OrgAccountBalance", []), "OrgAccountBalance must be text"),
    ],
)
def test_malformed_c2b(
    sample_json: Callable[[str], Any],
    change: Callable[[dict[str, Any]], dict[str, Any]],
    reason: str,
) -> None:
    with pytest.raises(MalformedCallback, match=reason):
        parse_c2b(_encode(change(sample_json(CONFIRMATION))))


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"", "empty"),
        (b"<xml/>", "not valid JSON"),
        (b"[{}]", "got an array"),
        (b'"x"', "got a string"),
        (b"{}", "missing TransactionType"),
        (b'{"pad": "' + b"x" * (1024 * 1024) + b'"}', "more than the 65536 allowed"),
    ],
)
def test_malformed_c2b_bodies(body: bytes, reason: str) -> None:
    with pytest.raises(MalformedCallback, match=reason):
        parse_c2b(body)


def test_validation_answers() -> None:
    assert c2b_accept() == {"ResultCode": "0", "ResultDesc": "Accepted"}
    assert c2b_reject() == {"ResultCode": "C2B00012", "ResultDesc": "Invalid Account Number"}
    assert c2b_reject("C2B00013") == {"ResultCode": "C2B00013", "ResultDesc": "Invalid Amount"}
    assert c2b_reject("C2B00016", "Account suspended") == {
        "ResultCode": "C2B00016",
        "ResultDesc": "Account suspended",
    }
    assert set(C2B_REJECTION_CODES) == {f"C2B0001{n}" for n in range(1, 7)}


def test_unknown_rejection_code_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown C2B rejection code"):
        c2b_reject("C2B99999")


def test_acknowledgements() -> None:
    assert c2b_confirmation_ack() == {"ResultCode": 0, "ResultDesc": "Success"}
    assert stk_callback_ack() == {"ResultCode": 0, "ResultDesc": "Accepted"}


REQUIRED_CODES = {0, 1, 1001, 1019, 1025, 1032, 1037, 2001, 9999}


@pytest.mark.parametrize("texts", [STK_RESULT_TEXT_EN, STK_RESULT_TEXT_SW])
def test_result_texts_cover_the_common_codes_in_one_line(texts: dict[int, str]) -> None:
    assert set(texts) >= REQUIRED_CODES
    for text in texts.values():
        assert text and "\n" not in text and len(text) <= 120


def test_result_text_lookup() -> None:
    assert stk_result_text(1032) == "You cancelled the payment request."
    assert stk_result_text(1, language="sw") == "Salio lako la M-Pesa halitoshi kwa malipo haya."
    assert "PIN" in stk_result_text(2001)
    assert stk_result_text(1037) != stk_result_text(1037, language="sw")
    assert stk_result_text(123456) == "The payment did not go through. Please try again."
    assert stk_result_text(123456, language="sw").startswith("Malipo hayakufanikiwa")


def test_result_text_unknown_language() -> None:
    with pytest.raises(ValueError, match="language"):
        stk_result_text(0, language="fr")
