"""Self-service settings: the SMS backend chosen from MTEJA_SMS_BACKEND, and reminder timing."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from core.ports import OutboxSms
from core.settings import Settings, parse_reminder_days
from mteja.queueing import reminder_policy, sms_gateway
from mteja.web import web_config
from ussd.sms.gateway import AfricasTalkingSms


def settings(**values: object) -> Settings:
    return Settings(_env_file=None, **values)


def test_the_outbox_is_the_default_sms_backend():
    assert isinstance(sms_gateway(settings()), OutboxSms)


def test_africastalking_is_chosen_by_setting():
    gateway = sms_gateway(
        settings(sms_backend="africastalking", at_api_key="key", at_base_url="http://fake:1")
    )
    assert isinstance(gateway, AfricasTalkingSms)


def test_africastalking_without_a_key_is_a_clear_error():
    with pytest.raises(ValueError, match="MTEJA_AT_API_KEY"):
        sms_gateway(settings(sms_backend="africastalking"))


@pytest.mark.parametrize(
    ("text", "days"), [("3,1", (3, 1)), ("1,3", (3, 1)), (" 7 ", (7,)), ("", ()), ("2,2", (2,))]
)
def test_reminder_days(text: str, days: tuple[int, ...]):
    assert parse_reminder_days(text) == days


@pytest.mark.parametrize("text", ["0", "61", "x", "3;1", "-1"])
def test_bad_reminder_days_are_refused(text: str):
    with pytest.raises(ValidationError):
        settings(reminder_days=text)


def test_reminder_hours_must_be_by_day():
    with pytest.raises(ValidationError):
        settings(reminder_start_hour=20, reminder_end_hour=8)
    policy = reminder_policy(settings(reminder_days="5,2", reminder_start_hour=9))
    assert (policy.offsets_days, policy.start_hour, policy.end_hour) == ((5, 2), 9, 20)


def test_africastalking_callers_can_be_limited_by_address():
    assert web_config(settings()).africastalking_networks is None
    limited = web_config(settings(at_allowed_ips="10.0.0.0/8"))
    assert limited.africastalking_networks is not None
    assert [str(n) for n in limited.africastalking_networks] == ["10.0.0.0/8"]


def test_expiring_days_default_and_bounds() -> None:
    assert Settings(_env_file=None).expiring_days == 3
    assert Settings(_env_file=None, expiring_days=7).expiring_days == 7
    for bad in (0, 61):
        with pytest.raises(ValidationError, match="from 1 to 60"):
            Settings(_env_file=None, expiring_days=bad)
