"""Reading keywords in any case, English or Kiswahili; anything else is UNKNOWN (help)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ussd.sms.keywords import Command, Keyword, parse_command


@pytest.mark.parametrize(
    ("text", "keyword", "language"),
    [
        ("STATUS", Keyword.STATUS, "en"),
        ("status", Keyword.STATUS, "en"),
        ("Status.", Keyword.STATUS, "en"),
        ("balance", Keyword.STATUS, "en"),
        ("HALI", Keyword.STATUS, "sw"),
        ("hali", Keyword.STATUS, "sw"),
        ("Salio", Keyword.STATUS, "sw"),
        ("PAY", Keyword.PAY, "en"),
        ("lipa", Keyword.PAY, "sw"),
        ("DETAILS", Keyword.DETAILS, "en"),
        ("maelezo", Keyword.DETAILS, "sw"),
        ("paybill", Keyword.DETAILS, None),
        ("help", Keyword.HELP, "en"),
        ("MSAADA", Keyword.HELP, "sw"),
        ("stop", Keyword.STOP, None),
        ("STOP!", Keyword.STOP, None),
        ("simamisha", Keyword.STOP, "sw"),
        ("start", Keyword.START, None),
        ("Anza", Keyword.START, "sw"),
        ("  \n status \t", Keyword.STATUS, "en"),
        ("ＳＴＡＴＵＳ", Keyword.STATUS, "en"),  # full-width letters some phones send
    ],
)
def test_keywords_in_any_case_and_both_languages(text: str, keyword: Keyword, language: str | None):
    command = parse_command(text)
    assert (command.keyword, command.language) == (keyword, language)


@pytest.mark.parametrize(
    "text", ["", "   ", "hello", "statusx", "PAYMENT", "asante sana", "1", "*384#", "😀", "\x00"]
)
def test_anything_else_is_unknown(text: str):
    assert parse_command(text) == Command(Keyword.UNKNOWN)


@pytest.mark.parametrize(
    ("text", "amount", "account"),
    [
        ("PAY", None, None),
        ("pay 500", 500, None),
        ("LIPA 1500", 1500, None),
        ("pay 1,500", 1500, None),
        ("pay KES 1,500", 1500, None),
        ("pay ksh500", 500, None),
        ("lipa 1500/=", 1500, None),
        ("pay 500 MTJ-4K7Q2D9", 500, "MTJ-4K7Q2D9"),
        ("lipa mtj-4k7q2d9 300", 300, "MTJ-4K7Q2D9"),
        ("pay MTJ4K7Q2D9", None, "MTJ4K7Q2D9"),
    ],
)
def test_pay_reads_an_amount_and_an_account(text: str, amount: int | None, account: str | None):
    command = parse_command(text)
    assert command.keyword is Keyword.PAY
    assert (command.amount_kes, command.account, command.problem) == (amount, account, None)


@pytest.mark.parametrize(
    "text",
    [
        "pay abc",
        "pay 0",
        "pay 300000",
        "lipa 1.5",
        "pay 500 600",
        # 15.2: the minus sign was dropped and "PAY -50" prompted for KES 50.
        "pay -50",
        "LIPA -50",
        "pay KES-50",
        "pay ksh -1,500",
        "pay \u221250",
        "pay +50",
        "pay -50 MTJ-4K7Q2D9",
    ],
)
def test_pay_with_an_unreadable_amount_says_so(text: str):
    command = parse_command(text)
    assert (command.keyword, command.problem, command.amount_kes) == (Keyword.PAY, "amount", None)


def test_status_and_details_take_an_account():
    assert parse_command("hali MTJ-4K7Q2D9").account == "MTJ-4K7Q2D9"
    # The prefix is optional in account numbers: the body alone still names the account.
    assert parse_command("details mtj 4k7q2d9").account == "4K7Q2D9"
    assert parse_command("STATUS please").account is None


@given(st.text(max_size=300))
def test_any_text_is_understood_or_unknown_never_an_error(text: str):
    command = parse_command(text)
    assert isinstance(command.keyword, Keyword)
    if command.amount_kes is not None:
        assert 1 <= command.amount_kes <= 250_000
