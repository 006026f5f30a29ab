"""``mteja mpesa register-urls`` against the fake Daraja, and the STK CallBackURL the workers
send: both under /payments/, and a public URL Daraja would block is refused before it is called."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest

from core.settings import Settings
from mteja.queueing import stk_callback_url
from sim.daraja.server import FakeDarajaServer

TOKEN = "cb-token-4d1a"


@pytest.fixture
def daraja(workdir: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeDarajaServer]:
    """A fake Daraja, and the MTEJA_ settings that point mteja at it."""
    with FakeDarajaServer() as server:
        fake = server.fake
        for name, value in {
            "MTEJA_MPESA_BASE_URL": server.base_url,
            "MTEJA_MPESA_CONSUMER_KEY": fake.consumer_key,
            "MTEJA_MPESA_CONSUMER_SECRET": fake.consumer_secret,
            "MTEJA_MPESA_SHORTCODE": fake.shortcode,
            "MTEJA_MPESA_PASSKEY": fake.passkey,
            "MTEJA_PUBLIC_URL": "https://isp.example.co.ke/",
            "MTEJA_CALLBACK_TOKEN": TOKEN,
        }.items():
            monkeypatch.setenv(name, value)
        yield server


def test_register_urls_registers_the_payments_paths(mteja: Any, daraja: FakeDarajaServer) -> None:
    result = mteja("mpesa", "register-urls")
    assert result.exit_code == 0, result.stderr
    fake = daraja.fake
    assert fake.confirmation_url == f"https://isp.example.co.ke/payments/c2b/confirmation/{TOKEN}"
    assert fake.validation_url == f"https://isp.example.co.ke/payments/c2b/validation/{TOKEN}"
    assert fake.response_type == "Completed"
    assert "registered with Safaricom: Success" in result.output
    assert "https://isp.example.co.ke/payments/c2b/confirmation/…" in result.output
    assert TOKEN not in result.output


@pytest.mark.parametrize(
    ("variable", "value", "named"),
    [
        ("MTEJA_PUBLIC_URL", "https://mpesa.myisp.co.ke", "MTEJA_PUBLIC_URL"),
        ("MTEJA_PUBLIC_URL", "https://myisp.co.ke/M-Pesa", "MTEJA_PUBLIC_URL"),
        ("MTEJA_PUBLIC_URL", "https://safaricom-fibre.co.ke", "MTEJA_PUBLIC_URL"),
        ("MTEJA_CALLBACK_TOKEN", "x-mpesa-x", "MTEJA_CALLBACK_TOKEN"),
    ],
)
def test_register_urls_refuses_urls_daraja_would_block_without_calling_it(
    mteja: Any,
    daraja: FakeDarajaServer,
    monkeypatch: pytest.MonkeyPatch,
    variable: str,
    value: str,
    named: str,
) -> None:
    monkeypatch.setenv(variable, value)
    result = mteja("mpesa", "register-urls")
    assert result.exit_code == 1
    [line] = result.stderr.strip().splitlines()
    assert line.startswith(f"error: {named}")
    assert "Safaricom blocks" in line
    fake = daraja.fake
    assert fake.token_requests == 0
    assert (fake.confirmation_url, fake.validation_url) == (None, None)


def _settings(public_url: str) -> Settings:
    return Settings(
        public_url=public_url,
        callback_token=TOKEN,
        mpesa_shortcode="174379",
        _env_file=None,  # type: ignore[call-arg]
    )


def test_the_stk_callback_url_is_under_payments(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        url = stk_callback_url(_settings("https://isp.example.co.ke/"))
    assert url == f"https://isp.example.co.ke/payments/stk/{TOKEN}"
    assert caplog.records == []


def test_a_blocked_stk_callback_url_is_warned_about(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        stk_callback_url(_settings("https://mpesa.myisp.co.ke"))
    [record] = caplog.records
    assert "STK pushes will be refused: MTEJA_PUBLIC_URL" in record.getMessage()


def test_the_web_app_warns_when_safaricom_would_block_its_callbacks(
    caplog: pytest.LogCaptureFixture,
) -> None:
    from mteja.web import web_config

    def about_safaricom() -> list[str]:
        # Other settings (the Africa's Talking token) may be warned about too.
        return [r.getMessage() for r in caplog.records if "Safaricom" in r.getMessage()]

    with caplog.at_level(logging.WARNING, logger="mteja.web"):
        web_config(_settings("https://isp.example.co.ke"))
        assert about_safaricom() == []
        web_config(_settings("https://MPESA.myisp.co.ke"))
    [message] = about_safaricom()
    assert message.startswith("Safaricom will not deliver M-Pesa callbacks: MTEJA_PUBLIC_URL")
