"""``mteja init`` makes MTEJA_AT_CALLBACK_TOKEN once, and ``mteja africastalking urls`` prints the
callback URLs to paste into the Africa's Talking dashboard."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from dotenv import dotenv_values

TOKEN = "at-token-8f3e2b"


def test_init_creates_the_token_once_and_keeps_it(mteja: Any, workdir: Path) -> None:
    first = mteja("init")
    assert first.exit_code == 0, first.stderr
    assert "created MTEJA_AT_CALLBACK_TOKEN" in first.output
    values = dotenv_values(workdir / ".env")
    token = values["MTEJA_AT_CALLBACK_TOKEN"]
    assert token and len(token) >= 32
    assert token != values["MTEJA_CALLBACK_TOKEN"]  # a secret of its own, not M-Pesa's

    second = mteja("init")
    assert second.exit_code == 0, second.stderr
    assert "MTEJA_AT_CALLBACK_TOKEN" not in second.output
    assert dotenv_values(workdir / ".env")["MTEJA_AT_CALLBACK_TOKEN"] == token
    assert (workdir / ".env").read_text().count("MTEJA_AT_CALLBACK_TOKEN=") == 1


def test_an_upgrade_gets_no_token_but_is_told_how_to_move_to_one(mteja: Any, workdir: Path) -> None:
    """A token made on upgrade would turn the URLs pasted at Africa's Talking into 404s."""
    assert mteja("init").exit_code == 0
    env_file = workdir / ".env"
    kept = [
        line
        for line in env_file.read_text().splitlines()
        if not line.startswith("MTEJA_AT_CALLBACK_TOKEN=")
    ]
    env_file.write_text("\n".join(kept) + "\n")  # as an install from before the token

    upgrade = mteja("init")
    assert upgrade.exit_code == 0, upgrade.stderr
    assert "created MTEJA_AT_CALLBACK_TOKEN" not in upgrade.output
    assert "note: MTEJA_AT_CALLBACK_TOKEN is not set" in upgrade.output
    assert "MTEJA_AT_CALLBACK_TOKEN" not in dotenv_values(env_file)


def test_init_keeps_a_token_set_in_the_environment(
    mteja: Any, workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MTEJA_AT_CALLBACK_TOKEN", TOKEN)
    assert mteja("init").exit_code == 0
    assert "MTEJA_AT_CALLBACK_TOKEN" not in dotenv_values(workdir / ".env")


def test_urls_are_built_from_the_public_url_and_the_token(
    mteja: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MTEJA_PUBLIC_URL", "https://isp.example.co.ke/")
    monkeypatch.setenv("MTEJA_AT_CALLBACK_TOKEN", TOKEN)
    result = mteja("africastalking", "urls")
    assert result.exit_code == 0, result.stderr
    assert result.output.splitlines() == [
        f"USSD callback          https://isp.example.co.ke/ussd/{TOKEN}",
        f"SMS inbound callback   https://isp.example.co.ke/sms/inbound/{TOKEN}",
        f"SMS delivery reports   https://isp.example.co.ke/sms/delivery/{TOKEN}",
    ]


def test_urls_use_the_token_init_wrote(mteja: Any, workdir: Path) -> None:
    assert mteja("init").exit_code == 0
    token = dotenv_values(workdir / ".env")["MTEJA_AT_CALLBACK_TOKEN"]
    result = mteja("africastalking", "urls")
    assert result.exit_code == 0, result.stderr
    assert f"http://127.0.0.1:8000/ussd/{token}" in result.output


def test_urls_without_a_token_say_to_run_init(mteja: Any, workdir: Path) -> None:
    (workdir / ".env").write_text("MTEJA_SECRET_KEY=" + "x" * 43 + "=\n")  # an older install
    result = mteja("africastalking", "urls")
    assert result.exit_code == 1
    assert result.stderr.strip() == "error: MTEJA_AT_CALLBACK_TOKEN is not set: run 'mteja init'"
    assert result.stdout == ""


def test_urls_without_a_public_url_say_so(mteja: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MTEJA_PUBLIC_URL", "")
    monkeypatch.setenv("MTEJA_AT_CALLBACK_TOKEN", TOKEN)
    result = mteja("africastalking", "urls")
    assert result.exit_code == 1
    assert result.stderr.startswith("error: MTEJA_PUBLIC_URL is not set")
    assert result.stdout == ""
