"""Alerts to the staff chat through the Telegram StaffNotifier, and the daily summary."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from huey import MemoryHuey

from bot.notifier import TelegramNotifier
from core.actors import Actor
from core.ports import OutboxSms
from core.settings import Settings
from core.usecases.billing import IncomingPayment, record_payment, record_unmatched_payment
from jobs.locks import FileRouterLock
from mteja.bootstrap import System
from mteja.queueing import Queue, build_queue
from sim.routeros.memory_gateway import InMemoryRouterGateway
from sim.routeros.state import RouterState

STAFF_CHAT = -100500
NAIROBI = ZoneInfo("Africa/Nairobi")


@pytest.fixture
def notifier(telegram) -> TelegramNotifier:
    return TelegramNotifier(telegram.token, STAFF_CHAT, telegram.base_url, sleep=lambda _: None)


def test_an_alert_goes_to_the_staff_chat(telegram, notifier) -> None:
    notifier.notify("Router core-1 is OFFLINE: timed out")
    assert telegram.last(STAFF_CHAT).text == "Router core-1 is OFFLINE: timed out"


def test_a_long_alert_is_split(telegram, notifier) -> None:
    notifier.notify("\n".join("x" * 100 for _ in range(60)))
    assert len(telegram.messages(STAFF_CHAT)) == 2


def test_a_failing_telegram_is_retried(telegram, notifier) -> None:
    telegram.fail_next["sendMessage"] = 2
    notifier.notify("Payment received")
    assert [m.text for m in telegram.messages(STAFF_CHAT)] == ["Payment received"]
    assert len(telegram.method_calls("sendMessage")) == 3


def test_an_alert_that_cannot_be_delivered_is_logged_not_raised(telegram, caplog) -> None:
    caplog.set_level(logging.ERROR, logger="bot.notifier")
    wrong = TelegramNotifier("1:wrong-token", STAFF_CHAT, telegram.base_url, sleep=lambda _: None)
    wrong.notify("Payment received")
    assert telegram.messages(STAFF_CHAT) == []
    assert "Unauthorized" in caplog.text
    telegram.stop()
    down = TelegramNotifier(telegram.token, STAFF_CHAT, telegram.base_url, sleep=lambda _: None)
    down.notify("Payment received")  # nothing raised
    assert "ConnectError" in caplog.text


def test_a_picture_with_its_caption(telegram, notifier) -> None:
    notifier.notify_with_picture("Good morning", b"\x89PNG fake", "chart.png")
    photo = telegram.last(STAFF_CHAT)
    assert (photo.kind, photo.text, photo.content, photo.filename) == (
        "photo",
        "Good morning",
        b"\x89PNG fake",
        "chart.png",
    )


@pytest.fixture
def queue(telegram, engine, bot_services, tmp_path: Path) -> Queue:
    """The real tasks, run the moment core commits, alerting through Telegram from settings."""
    settings = Settings(
        _env_file=None,
        telegram_token=telegram.token,
        telegram_base_url=telegram.base_url,
        telegram_staff_chat_id=str(STAFF_CHAT),
    )
    router = RouterState()
    return build_queue(
        System(settings, engine, bot_services),
        huey=MemoryHuey("alerts", immediate=True, utc=True),
        gateways=lambda login: InMemoryRouterGateway(router),
        locks=FileRouterLock(tmp_path / "locks"),
        sms=OutboxSms(),
    )


def test_payment_and_unmatched_payment_alerts(telegram, queue, bot_services, add_customer) -> None:
    assert isinstance(queue.notifier, TelegramNotifier)
    customer = add_customer(full_name="Jane Muthoni")
    with bot_services.unit_of_work() as uow:
        record_payment(uow, customer.id, Actor.mpesa(), IncomingPayment(1500, "mpesa", "QK1"))
        record_unmatched_payment(
            uow, Actor.mpesa(), IncomingPayment(700, "mpesa", "QK2", account_reference="X1")
        )
        uow.commit()
    telegram.wait_for_messages(STAFF_CHAT, 2)
    texts = [message.text for message in telegram.messages(STAFF_CHAT)]
    assert texts[0] == (
        f"Payment KES 1,500 (QK1) from Jane Muthoni ({customer.account_number}); "
        "active until 2026-12-22 12:00."
    )
    assert texts[1].startswith("Unmatched payment: KES 700 mpesa QK2 for account 'X1'")


def test_staff_actions_in_the_bot_raise_the_same_alerts(
    telegram, queue, bot_app, add_customer
) -> None:
    customer = add_customer()
    telegram.says(1003, f"/pay {customer.account_number} 1500 cash")
    telegram.wait_for_messages(1003, 1)
    alert = telegram.wait_for_messages(STAFF_CHAT, 1)
    assert alert.text.startswith("Payment KES 1,500 (cash) from Wanjiku Kamau")


def test_daily_summary_at_eight_with_a_chart(
    telegram, queue, bot_services, add_customer, clock
) -> None:
    add_customer(paid=1500)
    add_customer()
    # The frozen clock is 12:00 in Nairobi; the next morning at 08:05:
    clock.set(datetime(2026, 11, 23, 8, 5, tzinfo=NAIROBI))
    assert queue.daily_summary is not None
    assert queue.daily_summary.call_local() is True
    summary = telegram.last(STAFF_CHAT)
    assert summary.kind == "photo"
    assert summary.content.startswith(b"\x89PNG")
    assert summary.text.splitlines() == [
        "Good morning. Yesterday (Sun 22 Nov):",
        "• revenue KES 1,500 from 1 payment(s)",
        "• 2 new customer(s)",
        "Customers now: 1 inactive, 1 active, 0 expired, 0 suspended",
        "Today: 0 expire (/expiring 1), 0 need attention (/attention), "
        "0 unmatched payment(s) (/unmatched)",
    ]
    # Once a day, and only in the summary hour.
    clock.advance(timedelta(minutes=20))
    assert queue.daily_summary.call_local() is False
    clock.set(datetime(2026, 11, 24, 9, 0, tzinfo=NAIROBI))
    assert queue.daily_summary.call_local() is False
    assert len([m for m in telegram.messages(STAFF_CHAT) if m.kind == "photo"]) == 1


def test_daily_figures_count_revenue_and_active_subscribers(bot_services, add_customer, clock):
    from core.reports import daily_figures

    add_customer(paid=1500)
    clock.advance(timedelta(days=2))
    add_customer(paid=3000)
    with bot_services.unit_of_work() as uow:
        figures = daily_figures(uow, clock.now().astimezone(NAIROBI).date(), days=5)
    assert [f.revenue_kes for f in figures] == [0, 0, 1500, 0, 3000]
    assert [f.active_subscribers for f in figures] == [0, 0, 1, 1, 2]
