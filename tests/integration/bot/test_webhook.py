"""POST /telegram/{secret} on the web app: updates from Telegram go to the same bot."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from core.settings import Settings
from mteja.web import build_app

OWNER = 1001
SECRET = "s3cret-Path_token"


@pytest.fixture
def settings(telegram, monkeypatch) -> Settings:
    for name in ("MTEJA_TELEGRAM_TOKEN", "MTEJA_TELEGRAM_WEBHOOK_SECRET"):
        monkeypatch.delenv(name, raising=False)
    return Settings(
        _env_file=None,
        telegram_token=telegram.token,
        telegram_base_url=telegram.base_url,
        telegram_webhook_secret=SECRET,
    )


def _update(update_id: int, user_id: int, text: str) -> dict[str, object]:
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": 1_790_000_000,
            "chat": {"id": user_id, "type": "private", "first_name": "Staff"},
            "from": {"id": user_id, "is_bot": False, "first_name": "Staff"},
            "text": text,
        },
    }


def test_webhook_delivers_updates_to_the_bot(telegram, settings, bot_services) -> None:
    app = build_app(settings, bot_services)
    header = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
    with TestClient(app) as client:
        assert client.get("/healthz").json() == {"status": "ok"}
        response = client.post(
            f"/telegram/{SECRET}", json=_update(1, OWNER, "/plans"), headers=header
        )
        assert response.status_code == 200
        reply = telegram.wait_for_messages(OWNER, 1)
        assert reply.text.startswith("Plans:") and "Home 10M · pppoe" in reply.text
        assert telegram.method_calls("setMyCommands")


def test_webhook_refuses_wrong_secrets_and_junk(telegram, settings, bot_services) -> None:
    app = build_app(settings, bot_services)
    update = _update(1, OWNER, "/plans")
    with TestClient(app) as client:
        assert client.post("/telegram/wrong", json=update).status_code == 404
        assert client.post(f"/telegram/{SECRET}", json=update).status_code == 403
        wrong_header = {"X-Telegram-Bot-Api-Secret-Token": "nope"}
        assert (
            client.post(f"/telegram/{SECRET}", json=update, headers=wrong_header).status_code == 403
        )
        header = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
        assert client.post(f"/telegram/{SECRET}", content=b"{", headers=header).status_code == 400
        assert client.post(f"/telegram/{SECRET}", json=[1], headers=header).status_code == 400
    assert telegram.messages(OWNER) == []


def test_without_a_webhook_secret_there_is_no_route(telegram, bot_services) -> None:
    settings = Settings(_env_file=None, telegram_token=telegram.token)
    with TestClient(build_app(settings, bot_services)) as client:
        assert client.post("/telegram/anything", json={}).status_code == 404
        assert client.get("/healthz").status_code == 200


def test_the_web_app_serves_when_telegram_is_down(settings, bot_services, telegram) -> None:
    telegram.stop()
    with TestClient(build_app(settings, bot_services)) as client:
        assert client.get("/healthz").status_code == 200
        header = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
        update = _update(1, OWNER, "/plans")
        assert client.post(f"/telegram/{SECRET}", json=update, headers=header).status_code == 503
