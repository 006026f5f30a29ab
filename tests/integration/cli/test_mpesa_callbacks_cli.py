"""``mteja mpesa callbacks`` lists what was kept but not credited; ``mteja mpesa resolve``
takes one off the queue with a note in the audit log, and refuses what is not waiting."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import create_engine, insert, select

from core.models import AuditEvent, MpesaCallback
from core.testing import TEST_EPOCH


def _flagged_callback(workdir: Path) -> int:
    engine = create_engine(f"sqlite:///{workdir}/mteja.db")
    with engine.begin() as connection:
        callback_id = connection.execute(
            insert(MpesaCallback)
            .values(
                kind="stk",
                received_at=TEST_EPOCH,
                remote_address="196.201.214.200",
                body='{"Body": {"stkCallback": {"CheckoutRequestID": "ws_CO_1"}}}',
                truncated=False,
                status="flagged",
                error="the callback says KES 200,000 for a push of KES 2,500",
            )
            .returning(MpesaCallback.id)
        ).scalar_one()
    engine.dispose()
    return int(callback_id)


def test_callbacks_left_for_staff_are_listed_and_resolved_with_a_note(ready, workdir):
    callback_id = _flagged_callback(workdir)
    listed = ready("mpesa", "callbacks")
    assert listed.exit_code == 0, listed.stderr
    assert "KES 200,000 for a push of KES 2,500" in listed.output
    assert "mteja mpesa resolve ID NOTE" in listed.output

    resolved = ready("mpesa", "resolve", str(callback_id), "a forgery: not on the statement")
    assert resolved.exit_code == 0, resolved.stderr
    assert ready("mpesa", "callbacks").output.strip() == "No M-Pesa callback waits for staff."
    engine = create_engine(f"sqlite:///{workdir}/mteja.db")
    with engine.connect() as connection:
        [event] = connection.execute(
            select(AuditEvent).where(AuditEvent.action == "mpesa.callback_resolved")
        ).all()
    engine.dispose()
    assert event.reason == "a forgery: not on the statement"

    again = ready("mpesa", "resolve", str(callback_id), "twice")
    assert again.exit_code == 1 and "is resolved" in again.stderr
    missing = ready("mpesa", "resolve", "999", "nothing")
    assert missing.exit_code == 1 and "no M-Pesa callback 999" in missing.stderr
    blank = ready("mpesa", "resolve", str(callback_id), "  ")
    assert blank.exit_code == 1
