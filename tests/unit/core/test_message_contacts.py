"""Messages say how to pay and whom to call only when the ISP has set them (issue 15.4).

A welcome SMS used to say "Pay by M-Pesa paybill -" without a paybill, and "For help call mteja
ISP." without a support phone. Every text is rendered here both ways, in both languages.
"""

from __future__ import annotations

import pytest

from core import messages
from core.contacts import contact_values
from core.unit_of_work import CoreConfig

TEXTS = [(key, language) for key in messages.all_keys() for language in messages.LANGUAGES]
# The texts that tell how to pay or whom to call. "payment_details" is only sent with a paybill
# (payment_details_no_paybill stands in for it otherwise).
CONTACT_TEXTS = [
    (key, language)
    for key, language in TEXTS
    if {"paybill", "support"} & messages.template_fields(key, language) and key != "payment_details"
]


def _values(key: str, language: str, **given: str) -> dict[str, str]:
    return {name: "X1" for name in messages.template_fields(key, language)} | given


@pytest.mark.parametrize(("key", "language"), CONTACT_TEXTS)
def test_without_paybill_or_support_phone_the_sentence_is_left_out(key: str, language: str):
    text = messages.render(key, language, **_values(key, language, paybill="", support=""))

    assert "paybill" not in text.lower()
    assert "[" not in text and "]" not in text
    assert "  " not in text and " ." not in text and " ," not in text
    assert text == text.strip()
    assert not text.rstrip(".").endswith(("call", "piga", ":"))


@pytest.mark.parametrize(("key", "language"), TEXTS)
def test_with_them_every_value_is_said(key: str, language: str):
    values = _values(key, language, paybill="174379", support="0700 000001")
    text = messages.render(key, language, **values)

    assert "[" not in text and "]" not in text
    for name in messages.template_fields(key, language):
        assert values[name] in text


def test_contacts_come_from_the_settings_and_are_empty_when_unset():
    assert contact_values(CoreConfig()) == {"paybill": "", "support": ""}
    config = CoreConfig(paybill_number="174379", support_phone="+254700000001")
    assert contact_values(config) == {"paybill": "174379", "support": "0700 000001"}
