"""The ``.env`` file: where ``mteja init`` keeps its generated secret key and callback tokens."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from dotenv import dotenv_values

from core.crypto import new_secret_key
from payments.callback_urls import new_callback_token
from ussd.africastalking_urls import new_at_callback_token

SECRET_KEY_VARIABLE = "MTEJA_SECRET_KEY"


CALLBACK_TOKEN_VARIABLE = "MTEJA_CALLBACK_TOKEN"
AT_CALLBACK_TOKEN_VARIABLE = "MTEJA_AT_CALLBACK_TOKEN"
PUBLIC_URL_VARIABLE = "MTEJA_PUBLIC_URL"


def ensure_secret_key(env_path: Path) -> bool:
    """Add a new secret key to ``env_path`` unless one is configured; True if one was created.

    An existing key (in the environment or the file) is never replaced: every stored password was
    encrypted under it.
    """
    return ensure_value(env_path, SECRET_KEY_VARIABLE, new_secret_key)


def ensure_callback_token(env_path: Path) -> bool:
    """Add a random token for the M-Pesa callback URLs unless one is configured."""
    return ensure_value(env_path, CALLBACK_TOKEN_VARIABLE, new_callback_token)


def ensure_at_callback_token(env_path: Path) -> bool:
    """Add a random token for the Africa's Talking callback URLs unless one is configured."""
    return ensure_value(env_path, AT_CALLBACK_TOKEN_VARIABLE, new_at_callback_token)


def record_value(env_path: Path, name: str, value: str) -> None:
    """Set ``name=value`` in ``env_path``: its line replaced, or appended if it has none."""
    lines = env_path.read_text().splitlines() if env_path.exists() else []
    kept = [line for line in lines if line.split("=", 1)[0].strip() != name]
    env_path.write_text("\n".join([*kept, f"{name}={value}"]) + "\n")
    env_path.chmod(0o600)


def ensure_value(env_path: Path, name: str, make: Callable[[], str]) -> bool:
    """Append ``name=make()`` to ``env_path`` unless the environment or the file sets it."""
    if os.environ.get(name):
        return False
    if env_path.exists() and dotenv_values(env_path).get(name):
        return False
    existing = env_path.read_text() if env_path.exists() else ""
    separator = "" if not existing or existing.endswith("\n") else "\n"
    with env_path.open("a") as handle:
        handle.write(f"{separator}{name}={make()}\n")
    env_path.chmod(0o600)
    return True
