"""Key rotation over a database with secrets of every kind, on SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlalchemy import select

from core.actors import Actor
from core.crypto import SecretBox, SecretKeyError, new_secret_key
from core.models import AuditEvent, Customer, Router, SmsMessage
from core.testing import seed_pppoe_customers
from core.unit_of_work import CoreServices
from core.usecases.key_rotation import rotate_secrets, secrets_not_under_current_key
from core.usecases.sms import queue_sms

OLD, NEW = new_secret_key(), new_secret_key()


def _seed(services: CoreServices, staff: Actor) -> None:
    seed_pppoe_customers(services, staff, 7)
    with services.unit_of_work() as uow:
        queue_sms(uow, "+254712000000", "Your password is ••••••", "welcome", secret="secret-0")
        uow.commit()


def _plain(services: CoreServices) -> list[str]:
    with services.unit_of_work() as uow:
        tokens = [
            *uow.session.scalars(select(Customer.password_encrypted).order_by(Customer.id)),
            *uow.session.scalars(select(Router.password_encrypted)),
            *uow.session.scalars(select(SmsMessage.secret_encrypted)),
        ]
        return [uow.cipher.decrypt(token) for token in tokens if token]


def test_every_secret_is_re_encrypted_under_the_new_key(
    db_services: CoreServices, staff: Actor
) -> None:
    old_services = replace(db_services, cipher=SecretBox(OLD))
    _seed(old_services, staff)
    before = _plain(old_services)
    both = replace(db_services, cipher=SecretBox(f"{NEW},{OLD}"))
    assert len(secrets_not_under_current_key(both)) == 9

    report = rotate_secrets(both, staff, batch=3)

    assert report.rotated == {"customer passwords": 7, "router passwords": 1, "SMS secrets": 1}
    assert secrets_not_under_current_key(both) == []
    only_new = replace(db_services, cipher=SecretBox(NEW))
    assert _plain(only_new) == before
    with pytest.raises(SecretKeyError):
        _plain(old_services)
    with db_services.unit_of_work() as uow:
        audited = uow.session.scalars(
            select(AuditEvent.after).where(AuditEvent.action == "secrets.rotate")
        ).one()
    assert audited is not None and "secret-0" not in str(audited)
    # A second run has nothing left to do.
    assert rotate_secrets(both, staff).total_rotated == 0
