"""The callback paths and URLs mteja gives Daraja, and the words Daraja blocks in them."""

from __future__ import annotations

import pytest

from payments import callback_urls
from payments.callback_urls import (
    LEGACY_CALLBACK_PREFIX,
    c2b_confirmation_path,
    c2b_confirmation_url,
    c2b_validation_path,
    c2b_validation_url,
    callback_url_problem,
    forbidden_word,
    new_callback_token,
    stk_callback_path,
    stk_callback_url,
)


def test_the_built_urls_are_under_payments_and_name_no_forbidden_word() -> None:
    base = "https://isp.example.com/"
    built = {
        stk_callback_url(base, "tok"): "https://isp.example.com/payments/stk/tok",
        c2b_validation_url(base, "tok"): "https://isp.example.com/payments/c2b/validation/tok",
        c2b_confirmation_url(base, "tok"): "https://isp.example.com/payments/c2b/confirmation/tok",
    }
    for url, expected in built.items():
        assert url == expected
        assert forbidden_word(url) is None


def test_the_legacy_paths_keep_their_old_shape() -> None:
    assert stk_callback_path("t", LEGACY_CALLBACK_PREFIX) == "/mpesa/stk/t"
    assert c2b_validation_path("t", LEGACY_CALLBACK_PREFIX) == "/mpesa/c2b/validation/t"
    assert c2b_confirmation_path("t", LEGACY_CALLBACK_PREFIX) == "/mpesa/c2b/confirmation/t"


@pytest.mark.parametrize(
    ("url", "word"),
    [
        ("https://isp.example.com/mpesa/stk/t", "mpesa"),
        ("https://MPESA.isp.co.ke/cb", "MPESA"),
        ("https://isp.co.ke/M-Pesa/cb", "M-Pesa"),
        ("https://isp.co.ke/m_pesa", "m_pesa"),
        ("https://m.pesa.isp.co.ke/", "m.pesa"),
        ("https://isp.co.ke/m%2Dpesa/cb", "m-pesa"),
        ("https://isp.co.ke/cb?via=SafariCom", "SafariCom"),
        ("https://lipampesa.isp.co.ke/", "mpesa"),
    ],
)
def test_forbidden_words_are_found_in_any_case_and_spelling(url: str, word: str) -> None:
    assert forbidden_word(url) == word


@pytest.mark.parametrize(
    "url",
    ["https://isp.example.com/payments/stk/t", "https://example.com/pesa/cb", "https://pesa.co.ke"],
)
def test_urls_without_them_pass(url: str) -> None:
    assert forbidden_word(url) is None


def test_a_public_url_naming_mpesa_is_a_problem_that_says_why() -> None:
    problem = callback_url_problem("https://mpesa.myisp.co.ke", "tok")
    assert problem is not None
    assert problem.startswith("MTEJA_PUBLIC_URL https://mpesa.myisp.co.ke contains 'mpesa'")
    assert "Safaricom blocks callback URLs" in problem
    assert callback_url_problem("https://isp.example.com", "tok") is None


def test_a_token_naming_mpesa_is_a_problem() -> None:
    problem = callback_url_problem("https://isp.example.com", "abcMpEsAxyz")
    assert problem is not None and problem.startswith("MTEJA_CALLBACK_TOKEN contains 'MpEsA'")


def test_a_new_token_never_names_a_forbidden_word(monkeypatch: pytest.MonkeyPatch) -> None:
    drawn = iter(["xx-MPesa-xx", "safaricomXYZ", "fine-token"])
    monkeypatch.setattr(callback_urls.secrets, "token_urlsafe", lambda size: next(drawn))
    assert new_callback_token() == "fine-token"
