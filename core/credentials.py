"""Generated usernames and passwords for PPPoE and hotspot logins."""

from __future__ import annotations

import re
import secrets
import unicodedata
from collections.abc import Callable

# No 0/O, 1/l/I: subscribers read these off an SMS and type them into a router page.
_PASSWORD_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
PASSWORD_LENGTH = 8
USERNAME_MAX_LENGTH = 24
_USERNAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._@-]{1,63}$")


def generate_password(length: int = PASSWORD_LENGTH) -> str:
    """A random password that is easy to read aloud and type."""
    return "".join(secrets.choice(_PASSWORD_ALPHABET) for _ in range(length))


def is_valid_username(username: str) -> bool:
    """Whether a username is safe on RouterOS and in a URL: lower-case letters, digits, ._@-."""
    return bool(_USERNAME_PATTERN.match(username))


def username_base(full_name: str, phone: str | None) -> str:
    """A readable login made from the name (``john.kamau``), or from the phone's digits."""
    ascii_name = unicodedata.normalize("NFKD", full_name).encode("ascii", "ignore").decode().lower()
    words = re.findall(r"[a-z0-9]+", ascii_name)
    if words:
        base = ".".join(words[:1] + words[-1:]) if len(words) > 1 else words[0]
        base = base[:USERNAME_MAX_LENGTH].strip(".")
        # A login of digits alone reads like a phone or an id; such names use the phone instead.
        if len(base) >= 2 and not base.replace(".", "").isdigit():
            return base
    digits = re.sub(r"\D", "", phone or "")
    return ("u" + digits[-9:]) if digits else "user"


def generate_username(full_name: str, phone: str | None, is_taken: Callable[[str], bool]) -> str:
    """The first free username of ``base``, ``base2``, ``base3`` …"""
    base = username_base(full_name, phone)
    candidate = base
    suffix = 2
    while is_taken(candidate):
        candidate = f"{base}{suffix}"
        suffix += 1
    return candidate
