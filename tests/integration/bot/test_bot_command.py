"""`mteja bot`: long polling as a real process against the fake Bot API; --set-webhook."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mteja.cli import app

# Real processes (the mteja command in a subprocess): left out of `pytest -m "not slow"`.
pytestmark = pytest.mark.slow


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    for name in list(os.environ):
        if name.startswith("MTEJA_"):
            monkeypatch.delenv(name)
    runner = CliRunner()
    for args in (["init"], ["staff", "add", "1001", "Olive", "--role", "owner"]):
        result = runner.invoke(app, args, catch_exceptions=False)
        assert result.exit_code == 0, result.output
    return tmp_path


def test_bot_answers_by_long_polling_and_stops_on_sigterm(workdir: Path, telegram) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MTEJA_")}
    env |= {"MTEJA_TELEGRAM_TOKEN": telegram.token, "MTEJA_TELEGRAM_BASE_URL": telegram.base_url}
    process = subprocess.Popen(
        [sys.executable, "-m", "mteja.cli", "bot"],
        cwd=workdir,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        telegram.says(1001, "/help")
        reply = telegram.wait_for_messages(1001, 1, timeout=60)
        assert reply.text.startswith("You are Olive (owner).")
        telegram.says(5555, "/help")
        assert "not authorised" in telegram.wait_for_messages(5555, 1, timeout=30).text
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=30)
    assert process.returncode == 0, output.decode()
    assert b"is not staff" in output  # the stranger was logged


def test_set_webhook_registers_the_url_and_secret(
    workdir: Path, telegram, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MTEJA_TELEGRAM_TOKEN", telegram.token)
    monkeypatch.setenv("MTEJA_TELEGRAM_BASE_URL", telegram.base_url)
    monkeypatch.setenv("MTEJA_TELEGRAM_WEBHOOK_SECRET", "abc_123")
    monkeypatch.setenv("MTEJA_PUBLIC_URL", "https://isp.example/")
    result = CliRunner().invoke(app, ["bot", "--set-webhook"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "webhook registered: https://isp.example/telegram/…" in result.output
    assert telegram.webhook["url"] == "https://isp.example/telegram/abc_123"
    assert telegram.webhook["secret_token"] == "abc_123"


def test_bot_without_a_token_says_what_to_set(workdir: Path) -> None:
    result = CliRunner().invoke(app, ["bot"])
    assert result.exit_code == 1
    assert "MTEJA_TELEGRAM_TOKEN" in result.stderr
