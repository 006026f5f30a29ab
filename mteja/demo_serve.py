"""The demo's running half: fakes of the outside world, routers, a worker and the web app.

Everything runs in the one ``mteja demo`` process (threads), except the Telegram bot, which runs as
``mteja bot`` in a child process when ``MTEJA_TELEGRAM_TOKEN`` is set (python-telegram-bot's
polling loop wants the main thread). Ctrl-C stops the web server first, then the rest in reverse.
"""

from __future__ import annotations

import contextlib
import secrets
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

from rich.console import Console

from core.settings import Settings
from mteja.demo_ports import DemoPorts
from payments.callback_urls import c2b_confirmation_url, c2b_validation_url
from sim.africastalking import DEFAULT_API_KEY, DEFAULT_USERNAME, FakeAfricasTalking
from sim.daraja.server import (
    DEFAULT_CONSUMER_KEY,
    DEFAULT_CONSUMER_SECRET,
    DEFAULT_PAYER_PHONE,
    SANDBOX_PASSKEY,
    SANDBOX_SHORTCODE,
    FakeDaraja,
)
from sim.serving import BackgroundServer
from ussd.africastalking_urls import (
    new_at_callback_token,
    sms_delivery_url,
    sms_inbound_url,
    ussd_url,
)

STK_CALLBACK_DELAY_SECONDS = 3.0
SMS_DELIVERY_DELAY_SECONDS = 2.0


def demo_settings(settings: Settings, ports: DemoPorts) -> Settings:
    """``settings`` pointed at the demo's fakes: no accounts, nothing leaves this machine."""
    return settings.model_copy(
        update={
            "mpesa_base_url": ports.daraja_url,
            "mpesa_consumer_key": DEFAULT_CONSUMER_KEY,
            "mpesa_consumer_secret": DEFAULT_CONSUMER_SECRET,
            "mpesa_shortcode": SANDBOX_SHORTCODE,
            "mpesa_passkey": SANDBOX_PASSKEY,
            "mpesa_transaction_type": "paybill",
            "mpesa_allowed_ips": "*",
            "public_url": ports.web_url,
            "callback_token": settings.callback_token or secrets.token_urlsafe(24),
            "sms_backend": "africastalking",
            "at_username": DEFAULT_USERNAME,
            "at_api_key": DEFAULT_API_KEY,
            "at_base_url": ports.africastalking_url,
            "at_allowed_ips": "*",
            "at_callback_token": settings.at_callback_token or new_at_callback_token(),
        }
    )


@contextmanager
def outside_world(
    settings: Settings, ports: DemoPorts
) -> Iterator[tuple[FakeDaraja, FakeAfricasTalking]]:
    """The fake Daraja (C2B URLs registered to the web app) and the fake Africa's Talking."""
    daraja = FakeDaraja(default_delay_seconds=STK_CALLBACK_DELAY_SECONDS)
    africastalking = FakeAfricasTalking(
        delivery_url=sms_delivery_url(ports.web_url, settings.at_callback_token),
        inbound_url=sms_inbound_url(ports.web_url, settings.at_callback_token),
        auto_deliver=True,
        delivery_delay_seconds=SMS_DELIVERY_DELAY_SECONDS,
    )
    with ExitStack() as stack:
        stack.callback(daraja.close)
        stack.callback(africastalking.close)
        stack.enter_context(BackgroundServer(daraja.app, port=ports.daraja))
        stack.enter_context(BackgroundServer(africastalking.app, port=ports.africastalking))
        daraja.register_urls(
            {
                "ShortCode": SANDBOX_SHORTCODE,
                "ResponseType": "Completed",
                "ConfirmationURL": c2b_confirmation_url(ports.web_url, settings.callback_token),
                "ValidationURL": c2b_validation_url(ports.web_url, settings.callback_token),
            }
        )
        yield daraja, africastalking


@contextmanager
def staff_bot(settings: Settings, out: Console) -> Iterator[None]:
    """``mteja bot`` beside the demo when a Telegram token is configured; nothing otherwise."""
    if not settings.telegram_token:
        yield
        return
    bot = subprocess.Popen([sys.executable, "-m", "mteja.cli", "bot"])
    out.print(f"The Telegram staff bot is running (pid {bot.pid}).")
    try:
        yield
    finally:
        bot.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            bot.wait(timeout=10)
        if bot.poll() is None:
            bot.kill()


def what_to_try(
    ports: DemoPorts, account: str, phone: str, amount_kes: int, *, at_callback_token: str
) -> str:
    """The few lines a newcomer copies into a second terminal (the USSD one at the tokened path
    Africa's Talking would post to)."""
    payer = phone.lstrip("+")
    return "\n".join(
        [
            "",
            "Try, in another terminal:",
            "  # dial the USSD menu as a subscriber (1 = My account)",
            f"  curl -s {ussd_url(ports.web_url, at_callback_token)} -d sessionId=demo1 "
            f"-d serviceCode='*384*1#' -d phoneNumber=%2B{payer} -d networkCode=63902 -d text=1",
            f"  # pay {account}'s paybill: the fake M-Pesa posts the real C2B confirmation",
            f"  curl -s {ports.daraja_url}/_fake/paybill -H 'content-type: application/json' "
            f'-d \'{{"account": "{account}", "amount_kes": {amount_kes}, "phone": "{payer}"}}\'',
            f"  mteja customer show {account} --live   # the payment, the expiry, the router",
            "  mteja console                          # the staff bot's commands (try /attention)",
            f"  curl -s {ports.africastalking_url}/_fake/state   # SMS the subscribers were sent",
            f"(fake M-Pesa STK payer {DEFAULT_PAYER_PHONE}; Ctrl-C stops everything)",
        ]
    )


class CtrlC:
    """Remembers SIGINT (Ctrl-C) or SIGTERM from the moment serving starts.

    Every server of the demo runs on a thread, and the main thread only waits: that way no
    library's own signal handling (uvicorn's, huey's) decides when, or whether, the demo ends.
    A Ctrl-C that comes while the web app is still starting is remembered, not lost.
    """

    def __init__(self) -> None:
        self.pressed = threading.Event()
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> CtrlC:
        for number in (signal.SIGINT, signal.SIGTERM):
            self._previous[number] = signal.signal(number, lambda *_: self.pressed.set())
        return self

    def __exit__(self, *exc_info: object) -> None:
        for number, handler in self._previous.items():
            signal.signal(number, handler)

    def wait(self) -> None:
        """Block until Ctrl-C; a timed wait lets Python run the handler promptly."""
        while not self.pressed.wait(0.5):
            pass
