"""What a phone prefers: the language it is answered in, and whether it gets expiry reminders.

Preferences belong to the phone, not to an account: one person with three accounts chose one
language and said STOP once. A phone with no row speaks English and receives reminders.
"""

from __future__ import annotations

from collections.abc import Mapping

from core import audit
from core.actors import Actor
from core.messages import Language, as_language
from core.models import PhonePreference
from core.unit_of_work import UnitOfWork


def language_of(uow: UnitOfWork, phone: str) -> Language:
    """The language ``phone`` (E.164) chose, English by default."""
    preference = uow.session.get(PhonePreference, phone)
    return as_language(preference.language if preference else None)


def reminders_enabled(uow: UnitOfWork, phone: str) -> bool:
    """False once ``phone`` has sent STOP (until it sends START)."""
    preference = uow.session.get(PhonePreference, phone)
    return preference.reminders_enabled if preference else True


def set_language(uow: UnitOfWork, phone: str, language: Language) -> None:
    """Answer ``phone`` in ``language`` from now on (USSD and SMS, replies and notices)."""
    preference = _preference(uow, phone)
    before = {"language": as_language(preference.language)}
    preference.language = as_language(language)
    _audit(uow, phone, "preference.language", before, {"language": preference.language})


def set_reminders(uow: UnitOfWork, phone: str, enabled: bool) -> None:
    """STOP (``enabled=False``) silences expiry reminders and notices; receipts still go out."""
    preference = _preference(uow, phone)
    before = {"reminders_enabled": preference.reminders_enabled}
    preference.reminders_enabled = enabled
    _audit(uow, phone, "preference.reminders", before, {"reminders_enabled": enabled})


def _preference(uow: UnitOfWork, phone: str) -> PhonePreference:
    preference = uow.session.get(PhonePreference, phone, with_for_update=True)
    if preference is None:
        preference = PhonePreference(phone=phone, language="en", reminders_enabled=True)
        uow.session.add(preference)
    preference.updated_at = uow.clock.now()
    return preference


def _audit(
    uow: UnitOfWork,
    phone: str,
    action: str,
    before: Mapping[str, object],
    after: Mapping[str, object],
) -> None:
    if before != after:
        audit.record(
            uow,
            Actor.subscriber(phone),
            action,
            entity_type="phone_preference",
            before=dict(before),
            after=dict(after),
        )
