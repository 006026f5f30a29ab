"""A Session as JSON: forms and confirmations round-trip; secrets go through the cipher."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from bot.add_flow import AddForm, ParentAccount, Step
from bot.context import Pending, Session
from bot.conversations import session_of, session_state
from bot.edit_flow import GENERATE, EditForm
from core.crypto import SecretBox, new_secret_key

EXPIRES = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


def test_an_add_form_and_a_password_confirmation_round_trip_with_secrets_sealed() -> None:
    box = SecretBox(new_secret_key())
    form = AddForm(
        step=Step.PAYMENT,
        visited=[Step.TYPE, Step.PLAN],
        values={"connection_type": "pppoe", "plan_price": 1500, "password": "Typed-Secret-1"},
        parent=ParentAccount("MTJ-0001", "Acme Ltd", None),
    )
    session = Session(
        conversation=form,
        pending={
            "tok": Pending(
                "password", {"customer_id": 7, "who": "X", "new_password": "N3w-pw!"}, EXPIRES
            )
        },
    )
    stored = json.dumps(session_state(session, box.encrypt))
    assert "Typed-Secret-1" not in stored and "N3w-pw!" not in stored
    back = session_of(json.loads(stored), box.decrypt)
    assert back.conversation == form
    assert back.pending == session.pending


def test_an_edit_form_and_an_awaited_import_round_trip() -> None:
    form = EditForm(3, "Amina (MTJ-0003)", {"account2": GENERATE, "ip": ""}, asking="name")
    session = Session(conversation=form, awaiting_import=True)
    back = session_of(json.loads(json.dumps(session_state(session, str))), str)
    assert back.conversation == form and back.awaiting_import


def test_a_confirmation_of_an_action_no_longer_known_is_dropped() -> None:
    state = {
        "pending": {"tok": {"action": "gone", "arguments": {}, "expires_at": EXPIRES.isoformat()}}
    }
    assert session_of(state, str).pending == {}
