"""Secrets at rest (PPPoE and router passwords, SMS secrets), encrypted with Fernet under
MTEJA_SECRET_KEY.

MTEJA_SECRET_KEY may list several keys, comma-separated, newest first (MultiFernet): the first
encrypts, every one decrypts. That is how the key is rotated without downtime: the new key is put
first everywhere, every secret is re-encrypted under it (core.usecases.key_rotation), and the old
key is dropped only once no secret needs it.
"""

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken, MultiFernet


class SecretKeyError(Exception):
    """The configured key is missing or malformed, or a secret was encrypted under another key."""


def parse_keys(value: str) -> list[str]:
    """The keys of a MTEJA_SECRET_KEY value, newest first."""
    return [key.strip() for key in value.split(",") if key.strip()]


class SecretBox:
    """Encrypts short secrets under the first key of ``keys`` (comma-separated) and decrypts
    under any of them."""

    def __init__(self, keys: str) -> None:
        listed = parse_keys(keys)
        if not listed:
            raise SecretKeyError(
                "MTEJA_SECRET_KEY is not set: run 'mteja init' to create one in .env"
            )
        try:
            fernets = [Fernet(key.encode()) for key in listed]
        except (ValueError, TypeError) as exc:
            raise SecretKeyError(
                "MTEJA_SECRET_KEY is not a valid key, or list of keys (make one with 'mteja init')"
            ) from exc
        self.key_count = len(fernets)
        self._current = fernets[0]
        self._fernet = MultiFernet(fernets)

    def encrypt(self, plaintext: str) -> str:
        """The ciphertext of ``plaintext``, as URL-safe text for a database column."""
        return self._fernet.encrypt(plaintext.encode()).decode()

    def decrypt(self, ciphertext: str) -> str:
        """The plaintext of ``ciphertext``; SecretKeyError if no configured key made it."""
        try:
            return self._fernet.decrypt(ciphertext.encode()).decode()
        except InvalidToken as exc:
            raise SecretKeyError(
                "a stored secret cannot be decrypted: MTEJA_SECRET_KEY has changed"
            ) from exc

    def under_current_key(self, ciphertext: str) -> bool:
        """Whether ``ciphertext`` was made under the first (current) key."""
        try:
            self._current.decrypt(ciphertext.encode())
        except InvalidToken:
            return False
        return True

    def rotate(self, ciphertext: str) -> str:
        """``ciphertext`` re-encrypted under the current key (same plaintext); SecretKeyError
        if no configured key made it."""
        try:
            return self._fernet.rotate(ciphertext.encode()).decode()
        except InvalidToken as exc:
            raise SecretKeyError(
                "a stored secret cannot be decrypted by any key in MTEJA_SECRET_KEY"
            ) from exc


def new_secret_key() -> str:
    """A fresh key for MTEJA_SECRET_KEY."""
    return Fernet.generate_key().decode()
