"""Reading what a subscriber texted: a keyword in English or Kiswahili, in any case, and for PAY
an amount and, when the phone has several accounts, which one.

``STATUS``/``HALI``, ``PAY [amount] [account]``/``LIPA``, ``DETAILS``/``MAELEZO``,
``HELP``/``MSAADA``, ``STOP``/``START`` (reminders). Anything else is ``UNKNOWN`` and gets the
help text. Pure: no database, no settings.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from enum import StrEnum

from core.messages import Language

MAX_AMOUNT_KES = 250_000


class Keyword(StrEnum):
    STATUS = "status"
    PAY = "pay"
    DETAILS = "details"
    HELP = "help"
    STOP = "stop"
    START = "start"
    UNKNOWN = "unknown"


# word -> (keyword, the language the word is in; None when both languages use it)
KEYWORDS: dict[str, tuple[Keyword, Language | None]] = {
    "STATUS": (Keyword.STATUS, "en"),
    "BALANCE": (Keyword.STATUS, "en"),
    "HALI": (Keyword.STATUS, "sw"),
    "SALIO": (Keyword.STATUS, "sw"),
    "PAY": (Keyword.PAY, "en"),
    "LIPA": (Keyword.PAY, "sw"),
    "DETAILS": (Keyword.DETAILS, "en"),
    "PAYBILL": (Keyword.DETAILS, None),
    "MAELEZO": (Keyword.DETAILS, "sw"),
    "HELP": (Keyword.HELP, "en"),
    "MSAADA": (Keyword.HELP, "sw"),
    "STOP": (Keyword.STOP, None),
    "SIMAMISHA": (Keyword.STOP, "sw"),
    "START": (Keyword.START, None),
    "ANZA": (Keyword.START, "sw"),
}

_WORD = re.compile(r"[^\W_]+(?:[-'][^\W_]+)*")
_AMOUNT = re.compile(
    r"^(?:KES|KSH|KSHS|SH|SHS)?\.?(\d{1,3}(?:,\d{3})+|\d{1,7})(?:/=|/-)?$", re.ASCII
)
# A sign before a number ("-50", "KES-50", "+50", with a typographic minus too): kept whole so
# it is no amount, rather than split into words and read as 50.
_SIGNED_NUMBER = re.compile(r"^(?:KES|KSH|KSHS|SH|SHS)?\.?[-+\u2212\u2013\u2014]\d")


@dataclass(frozen=True)
class Command:
    """What the text asks. ``language`` is the keyword's own, or None if it tells nothing.

    ``problem`` is set when the keyword was understood but its arguments were not (a PAY with
    an amount that is no amount), so the reply can say how to write it.
    """

    keyword: Keyword
    language: Language | None = None
    amount_kes: int | None = None
    account: str | None = None
    problem: str | None = None


def parse_command(text: str) -> Command:
    """The command in ``text``; never raises, whatever the text."""
    words = _words(text)
    if not words or words[0] not in KEYWORDS:
        return Command(Keyword.UNKNOWN)
    keyword, language = KEYWORDS[words[0]]
    arguments = words[1:]
    if keyword not in (Keyword.PAY, Keyword.STATUS, Keyword.DETAILS):
        return Command(keyword, language)
    amount: int | None = None
    account: str | None = None
    for word in arguments:
        parsed = _amount(word) if keyword is Keyword.PAY else None
        if parsed is not None and amount is None:
            amount = parsed
        elif account is None and _account_like(word):
            account = word
        elif keyword is Keyword.PAY:
            return Command(keyword, language, problem="amount")
    return Command(keyword, language, amount, account)


def _words(text: str) -> list[str]:
    """Upper-case words; "KES 1,500" and "1,500/=" stay one amount."""
    normalized = unicodedata.normalize("NFKC", text).upper()
    normalized = re.sub(r"\b(KES|KSH|KSHS|SHS?)\s+(?=\d)", r"\1", normalized)
    words: list[str] = []
    for raw in normalized.split():
        if _AMOUNT.match(raw) or _SIGNED_NUMBER.match(raw):
            words.append(raw)
            continue
        words += _WORD.findall(raw)
    return words


def _amount(word: str) -> int | None:
    match = _AMOUNT.match(word)
    if match is None:
        return None
    amount = int(match.group(1).replace(",", ""))
    return amount if 1 <= amount <= MAX_AMOUNT_KES else None


def _account_like(word: str) -> bool:
    """A word that could be an account number (letters and digits, 7 to 13 of them)."""
    compact = word.replace("-", "")
    return 7 <= len(compact) <= 13 and compact.isascii() and compact.isalnum()
