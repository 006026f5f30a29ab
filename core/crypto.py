"""Secrets at rest (PPPoE and router passwords), encrypted with Fernet under MTEJA_SECRET_KEY."""

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken


class SecretKeyError(Exception):
    """The configured key is missing or malformed, or a secret was encrypted under another key."""


class SecretBox:
    """Encrypts and decrypts short secrets with one Fernet key."""

    def __init__(self, key: str) -> None:
        if not key:
            raise SecretKeyError(
                "MTEJA_SECRET_KEY is not set: run 'mteja init' to create one in .env"
            )
        try:
            self._fernet = Fernet(key.encode())
        except (ValueError, TypeError) as exc:
            raise SecretKeyError(
                "MTEJA_SECRET_KEY is not a valid key (make one with 'mteja init')"
            ) from exc

    def encrypt(self, plaintext: str) -> str:
        """The ciphertext of ``plaintext``, as URL-safe text for a database column."""
        return self._fernet.encrypt(plaintext.encode()).decode()

    def decrypt(self, ciphertext: str) -> str:
        """The plaintext of ``ciphertext``; SecretKeyError if it was made under another key."""
        try:
            return self._fernet.decrypt(ciphertext.encode()).decode()
        except InvalidToken as exc:
            raise SecretKeyError(
                "a stored secret cannot be decrypted: MTEJA_SECRET_KEY has changed"
            ) from exc


def new_secret_key() -> str:
    """A fresh key for MTEJA_SECRET_KEY."""
    return Fernet.generate_key().decode()
