"""Account numbers like ``MTJ-4K7Q2DW``: prefix, six Crockford base-32 characters, check character.

The check character is a weighted sum over GF(32) (weights are powers of x), from the same
alphabet, so every single mistyped character and every swap of two neighbouring characters is caught
instead of matching someone else's account. (Luhn mod 32 misses a swap of 0 and Z.)
Matching forgives what people do on phone keypads: case, spaces and dashes, O for 0, I and L for 1,
and a missing prefix.
"""

from __future__ import annotations

import re
import secrets

from core.errors import InvalidAccountNumber, InvalidInput

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
BODY_LENGTH = 6
# M-Pesa's STK AccountReference takes at most 12 characters: prefix + "-" + 7.
MAX_TOTAL_LENGTH = 12
MAX_PREFIX_LENGTH = MAX_TOTAL_LENGTH - 1 - BODY_LENGTH - 1

_VALUE = {symbol: index for index, symbol in enumerate(ALPHABET)}
# x^5 + x^2 + 1, irreducible over GF(2): the modulus of GF(32).
_FIELD_MODULUS = 0b100101
_LOOKALIKES = str.maketrans({"O": "0", "I": "1", "L": "1"})
_SEPARATORS = re.compile(r"[\s\-_.]+")


def validate_prefix(prefix: str) -> str:
    """The prefix upper-cased; ValueError if it cannot make a valid account number."""
    cleaned = prefix.strip().upper()
    if (
        not cleaned
        or len(cleaned) > MAX_PREFIX_LENGTH
        or not cleaned.isascii()
        or not cleaned.isalnum()
    ):
        raise ValueError(
            f"account prefix must be 1 to {MAX_PREFIX_LENGTH} letters or digits, got {prefix!r}"
        )
    return cleaned


def check_character(body: str) -> str:
    """The check character of ``body`` (characters of ALPHABET).

    Each symbol is an element of GF(32); the check makes ``sum(symbol_i * x^(n-i))`` zero. Weights
    are non-zero (a substitution changes the sum) and neighbouring weights differ (a swap of two
    different symbols changes it too).
    """
    total = 0
    for symbol in body:
        total = _times_x(total) ^ _VALUE[symbol]
    return ALPHABET[_times_x(total)]


def _times_x(value: int) -> int:
    value <<= 1
    if value & 0b100000:
        value ^= _FIELD_MODULUS
    return value


def is_valid_body(code: str) -> bool:
    """Whether ``code`` (body + check character, canonical form) has the right check character."""
    if len(code) != BODY_LENGTH + 1 or any(symbol not in _VALUE for symbol in code):
        return False
    return check_character(code[:-1]) == code[-1]


def generate(prefix: str) -> str:
    """A new random account number with ``prefix``; uniqueness is the caller's to check."""
    body = "".join(secrets.choice(ALPHABET) for _ in range(BODY_LENGTH))
    return format_account_number(prefix, body + check_character(body))


def format_account_number(prefix: str, code: str) -> str:
    """The canonical printed form, ``PREFIX-CODE``."""
    return f"{prefix}-{code}"


def parse(text: str, prefix: str) -> str:
    """Return the canonical account number meant by ``text``, or raise InvalidAccountNumber.

    Case, spaces and dashes are ignored; O reads as 0, I and L as 1; the prefix may be left out.
    """
    compact = _SEPARATORS.sub("", text).upper()
    if compact.startswith(prefix) and len(compact) == len(prefix) + BODY_LENGTH + 1:
        compact = compact[len(prefix) :]
    code = compact.translate(_LOOKALIKES)
    if len(code) != BODY_LENGTH + 1 or any(symbol not in _VALUE for symbol in code):
        raise InvalidAccountNumber(
            f"{text.strip()!r} is not an account number like {example(prefix)}"
        )
    if not is_valid_body(code):
        raise InvalidAccountNumber(
            f"{text.strip()!r} has a typing mistake: please check the account number"
        )
    return format_account_number(prefix, code)


def example(prefix: str) -> str:
    """A valid account number to show people the format."""
    body = "4K7Q2D"
    return format_account_number(prefix, body + check_character(body))


def is_account_shaped(text: str, prefix: str) -> bool:
    """Whether ``text`` reads as an attempt at an account number (so a bad check is a typo)."""
    compact = _SEPARATORS.sub("", text).upper()
    if compact.startswith(prefix) and len(compact) == len(prefix) + BODY_LENGTH + 1:
        return True
    code = compact.translate(_LOOKALIKES)
    return len(code) == BODY_LENGTH + 1 and all(symbol in _VALUE for symbol in code)


def looks_like_account_number(text: str, prefix: str) -> bool:
    """Whether ``text`` parses as an account number (used by search to choose a strategy)."""
    try:
        parse(text, prefix)
    except InvalidAccountNumber:
        return False
    return True


# A second reference the ISP types: the paybill references it already uses, like ``ACC-0042``.
SECOND_REFERENCE_MAX_LENGTH = 20
_SECOND_REFERENCE = re.compile(r"[A-Za-z0-9-]+")


def reference_key(text: str, prefix: str) -> str:
    """The one stored form of a paybill reference: the canonical account number when ``text``
    reads as one (so a second reference can never shadow anyone's account number), otherwise
    the text upper-cased without spaces."""
    try:
        return parse(text, prefix)
    except InvalidAccountNumber:
        return "".join(text.split()).upper()


def clean_second_reference(text: str, prefix: str) -> str:
    """A typed second reference in its stored form; InvalidInput unless it is 1 to 20 letters,
    digits and dashes."""
    cleaned = text.strip()
    if (
        not cleaned
        or len(cleaned) > SECOND_REFERENCE_MAX_LENGTH
        or not cleaned.isascii()
        or not _SECOND_REFERENCE.fullmatch(cleaned)
    ):
        raise InvalidInput(
            f"an additional account number is 1 to {SECOND_REFERENCE_MAX_LENGTH} letters, "
            f"digits and dashes, not {text.strip()!r}"
        )
    return reference_key(cleaned, prefix)
