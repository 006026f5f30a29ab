"""Phone normalization, Kenyan time on the wire and the STK password."""

from __future__ import annotations

import base64
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from payments.phone import InvalidPhoneNumber, normalize_msisdn, to_e164, try_e164
from payments.wire import format_daraja_time, parse_daraja_time, stk_password

SANDBOX_PASSKEY = "bfb279f9aa9bdbcf158e97dd71a467cd2e0c893059b10f78e6b72ada1ed2c919"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("+254708374149", "254708374149"),
        ("254708374149", "254708374149"),
        ("0708374149", "254708374149"),
        ("0110123456", "254110123456"),
        ("+254110123456", "254110123456"),
        ("254110123456", "254110123456"),
        (" +254 708 374 149 ", "254708374149"),
        ("0708-374-149", "254708374149"),
    ],
)
def test_kenyan_mobile_numbers_normalize_to_daraja_msisdn(raw: str, expected: str) -> None:
    assert normalize_msisdn(raw) == expected
    assert to_e164(raw) == "+" + expected


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "0201234567",  # Nairobi landline
        "+254201234567",
        "070837414",  # too short
        "07083741490",  # too long
        "+255708374149",  # Tanzania
        "708374149",  # no prefix at all
        "0708374l49",  # letter l, not digit 1
        "2547 ***** 126",  # masked by Safaricom
        "+254 ٧٠٨٣٧٤١٤٩",  # Arabic-Indic digits are not ASCII digits
        "++254708374149",
    ],
)
def test_anything_else_is_an_invalid_phone_number(raw: str) -> None:
    with pytest.raises(InvalidPhoneNumber, match="not a Kenyan mobile number"):
        normalize_msisdn(raw)
    assert try_e164(raw) is None


def test_non_text_phone_is_rejected_clearly() -> None:
    bad: Any = 254708374149
    with pytest.raises(InvalidPhoneNumber, match="must be text"):
        normalize_msisdn(bad)


def test_timestamp_is_kenyan_local_time() -> None:
    instant = datetime(2016, 2, 16, 13, 56, 27, tzinfo=UTC)
    assert format_daraja_time(instant) == "20160216165627"


def test_timestamp_crossing_midnight_in_nairobi() -> None:
    assert format_daraja_time(datetime(2024, 12, 31, 22, 30, tzinfo=UTC)) == "20250101013000"


def test_timestamp_from_another_offset_is_converted() -> None:
    new_york = timezone(timedelta(hours=-5))
    assert format_daraja_time(datetime(2016, 2, 16, 8, 56, 27, tzinfo=new_york)) == (
        "20160216165627"
    )


def test_timestamp_refuses_naive_datetimes() -> None:
    with pytest.raises(ValueError, match="aware"):
        format_daraja_time(datetime(2016, 2, 16, 13, 56, 27))


def test_daraja_time_parses_to_aware_utc() -> None:
    parsed = parse_daraja_time("20191219102115")
    assert parsed == datetime(2019, 12, 19, 7, 21, 15, tzinfo=UTC)
    assert parsed.utcoffset() == timedelta(0)


@pytest.mark.parametrize("text", ["2019121910211", "20191319102115", "2019-12-19 10:21", ""])
def test_daraja_time_rejects_bad_text(text: str) -> None:
    with pytest.raises(ValueError):
        parse_daraja_time(text)


def test_password_matches_the_published_sample(sample_json: Callable[[str], Any]) -> None:
    sample = sample_json("daraja-stk-push-request.json")
    password = stk_password("174379", SANDBOX_PASSKEY, sample["Timestamp"])
    assert password == sample["Password"]
    assert base64.b64decode(password).decode() == "174379" + SANDBOX_PASSKEY + "20160216165627"
