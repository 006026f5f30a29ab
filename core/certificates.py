"""Certificate fingerprints as staff type them and mteja stores them."""

from __future__ import annotations

__all__ = ["normalize_fingerprint"]


def normalize_fingerprint(text: str) -> str:
    """A SHA-256 fingerprint as 64 lowercase hex digits; colons, spaces and case are ignored.
    ValueError when it is not one."""
    digits = text.replace(":", "").replace(" ", "").strip().lower()
    if len(digits) != 64 or any(c not in "0123456789abcdef" for c in digits):
        raise ValueError(f"not a SHA-256 fingerprint (64 hex digits): {text.strip()!r}")
    return digits
