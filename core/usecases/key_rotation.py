"""Re-encrypting every stored secret under the current key (``mteja secrets rotate``).

Run after a new key was put first in MTEJA_SECRET_KEY in every process. Each encrypted column is
walked in batches by id; a batch locks its rows (a staff member changing a password at the same
moment waits, and neither write is lost), re-encrypts those not yet under the current key and
commits. A run that stops midway is resumed by running it again: rows already under the current
key are skipped. ``verify`` then reads every secret once more; only when none needs an old key
may the old key be dropped.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from core import audit
from core.actors import Actor
from core.crypto import SecretKeyError
from core.models import Customer, Router, SmsMessage
from core.unit_of_work import CoreServices

# (label, model, column name): every column that holds a secret encrypted by core.crypto.
ENCRYPTED_COLUMNS: tuple[tuple[str, Any, str], ...] = (
    ("customer passwords", Customer, "password_encrypted"),
    ("router passwords", Router, "password_encrypted"),
    ("SMS secrets", SmsMessage, "secret_encrypted"),
)
BATCH = 500


@dataclass
class RotationReport:
    rotated: dict[str, int]
    already_current: dict[str, int]

    @property
    def total_rotated(self) -> int:
        return sum(self.rotated.values())


@dataclass(frozen=True)
class Unreadable:
    """A secret no configured key can decrypt (made under a key no longer listed)."""

    label: str
    row_id: int


def rotate_secrets(
    services: CoreServices,
    actor: Actor,
    *,
    batch: int = BATCH,
    progress: Callable[[str, int], None] | None = None,
) -> RotationReport:
    """Re-encrypt every secret not yet under the current key, ``batch`` rows per transaction.
    SecretKeyError (nothing more changed) at a secret no configured key can read."""
    if batch < 1:
        raise ValueError("batch must be at least 1")
    report = RotationReport({}, {})
    for label, model, column in ENCRYPTED_COLUMNS:
        rotated = current = 0
        after_id = 0
        while True:
            with services.unit_of_work() as uow:
                rows = list(
                    uow.session.scalars(
                        select(model)
                        .where(model.id > after_id, getattr(model, column).is_not(None))
                        .order_by(model.id)
                        .limit(batch)
                        .with_for_update()
                    )
                )
                if not rows:
                    break
                for row in rows:
                    token = getattr(row, column)
                    if uow.cipher.under_current_key(token):
                        current += 1
                        continue
                    try:
                        setattr(row, column, uow.cipher.rotate(token))
                    except SecretKeyError as exc:
                        raise SecretKeyError(f"{label}, row {row.id}: {exc}") from exc
                    rotated += 1
                after_id = rows[-1].id
                uow.commit()
            if progress is not None:
                progress(label, rotated + current)
        report.rotated[label] = rotated
        report.already_current[label] = current
    with services.unit_of_work() as uow:
        audit.record(
            uow,
            actor,
            "secrets.rotate",
            entity_type="secrets",
            after={"rotated": report.rotated, "already_current": report.already_current},
        )
        uow.commit()
    return report


def secrets_not_under_current_key(services: CoreServices, limit: int = 20) -> list[Unreadable]:
    """The verifying pass: secrets that still need an older key (at most ``limit``); empty when
    the old keys may be dropped."""
    found: list[Unreadable] = []
    with services.unit_of_work(read_only=True) as uow:
        for label, model, column in ENCRYPTED_COLUMNS:
            rows = uow.session.execute(
                select(model.id, getattr(model, column))
                .where(getattr(model, column).is_not(None))
                .order_by(model.id)
                .execution_options(yield_per=BATCH)
            )
            for row_id, token in rows:
                if not uow.cipher.under_current_key(token):
                    found.append(Unreadable(label, row_id))
                    if len(found) >= limit:
                        return found
    return found
