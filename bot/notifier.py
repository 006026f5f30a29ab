"""Staff alerts to the staff Telegram chat: the StaffNotifier the workers use.

Plain HTTPS calls to the Bot API (no event loop), so huey's worker threads can call it directly.
An alert is best effort: a Telegram outage is retried briefly and then logged, never raised,
because the task that raised the alert (say, a payment receipt) must not run again for it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

import httpx

from bot.limits import CAPTION_LIMIT, DEFAULT_BASE_URL, chunks

log = logging.getLogger(__name__)

ATTEMPTS = 3
MAX_WAIT_SECONDS = 5.0


def method_url(base_url: str, token: str, method: str) -> str:
    """``base_url`` + token + method, as python-telegram-bot builds it (``{token}`` allowed)."""
    root = base_url.format(token=token) if "{token}" in base_url else base_url + token
    return f"{root}/{method}"


class TelegramNotifier:
    """Posts alerts, and the daily summary with its chart, to one chat."""

    def __init__(
        self,
        token: str,
        chat_id: int,
        base_url: str = DEFAULT_BASE_URL,
        *,
        timeout: float = 10.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.token = token
        self.chat_id = chat_id
        self.base_url = base_url
        self.timeout = timeout
        self.sleep = sleep
        self._client: httpx.Client | None = None

    @property
    def client(self) -> httpx.Client:
        # Made on first use: building a notifier opens nothing.
        if self._client is None:
            self._client = httpx.Client(timeout=self.timeout)
        return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()

    def notify(self, text: str) -> None:
        """Send ``text`` to the staff chat (in pieces if it is long)."""
        for piece in chunks(text):
            self._call("sendMessage", {"chat_id": self.chat_id, "text": piece})

    def notify_with_picture(self, text: str, png: bytes, filename: str = "summary.png") -> None:
        """Send a picture with ``text`` as its caption (or after it, when too long)."""
        caption = text if len(text) <= CAPTION_LIMIT else ""
        sent = self._call(
            "sendPhoto",
            {"chat_id": self.chat_id, "caption": caption},
            files={"photo": (filename, png, "image/png")},
        )
        if not sent or not caption:
            self.notify(text)

    def _call(self, method: str, data: dict[str, Any], files: dict[str, Any] | None = None) -> bool:
        url = method_url(self.base_url, self.token, method)
        for attempt in range(1, ATTEMPTS + 1):
            wait = 0.5 * attempt
            try:
                response = self.client.post(url, data=data, files=files)
            except httpx.HTTPError as failure:
                problem = f"{failure.__class__.__name__}: {failure}"
            else:
                if response.status_code == 200:
                    return True
                problem = _description(response)
                if response.status_code == 429:
                    wait = _retry_after(response)
                elif response.status_code < 500:
                    break  # refused (wrong chat, bot removed): trying again will not help
            if attempt < ATTEMPTS:
                self.sleep(min(wait, MAX_WAIT_SECONDS))
        log.error("staff alert not delivered to Telegram chat %s (%s)", self.chat_id, problem)
        return False


def _description(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return f"HTTP {response.status_code}"
    return f"HTTP {response.status_code}: {body.get('description', '')}"


def _retry_after(response: httpx.Response) -> float:
    try:
        return float(response.json()["parameters"]["retry_after"])
    except (ValueError, KeyError, TypeError):
        return 1.0
