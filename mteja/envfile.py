"""The ``.env`` file: where ``mteja init`` keeps a generated MTEJA_SECRET_KEY."""

from __future__ import annotations

import os
from pathlib import Path

from dotenv import dotenv_values

from core.crypto import new_secret_key

SECRET_KEY_VARIABLE = "MTEJA_SECRET_KEY"


def ensure_secret_key(env_path: Path) -> bool:
    """Add a new secret key to ``env_path`` unless one is configured; True if one was created.

    An existing key (in the environment or the file) is never replaced: every stored password was
    encrypted under it.
    """
    if os.environ.get(SECRET_KEY_VARIABLE):
        return False
    if env_path.exists() and dotenv_values(env_path).get(SECRET_KEY_VARIABLE):
        return False
    existing = env_path.read_text() if env_path.exists() else ""
    separator = "" if not existing or existing.endswith("\n") else "\n"
    with env_path.open("a") as handle:
        handle.write(f"{separator}{SECRET_KEY_VARIABLE}={new_secret_key()}\n")
    env_path.chmod(0o600)
    return True
