"""What Telegram allows, shared by the adapter and the notifier (which must not need the
python-telegram-bot machinery to send an alert)."""

from __future__ import annotations

DEFAULT_BASE_URL = "https://api.telegram.org/bot"
TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024


def chunks(text: str, limit: int = TEXT_LIMIT) -> list[str]:
    """``text`` in pieces Telegram accepts, cut at line ends where possible."""
    pieces: list[str] = []
    while len(text) > limit:
        cut = text.rfind("\n", 0, limit)
        cut = cut if cut > 0 else limit
        pieces.append(text[:cut])
        text = text[cut:].lstrip("\n")
    pieces.append(text)
    return pieces
