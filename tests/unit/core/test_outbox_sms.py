"""The outbox SMS backend (the default with no provider) never writes a message's text to the
log: a welcome message holds the subscriber's password."""

from __future__ import annotations

import logging

import pytest

from core.ports import OutboxSms


def test_the_outbox_logs_the_recipient_and_never_the_text(caplog: pytest.LogCaptureFixture):
    outbox = OutboxSms()

    with caplog.at_level(logging.INFO, logger="core.ports"):
        first = outbox.send("+254712345678", "Your PPPoE password is s3cret-pw")
        second = outbox.send("+254712345678", "Asante!")

    logged = " ".join(record.getMessage() for record in caplog.records)
    assert "+254712345678" in logged
    assert "s3cret-pw" not in logged and "Asante" not in logged
    assert (first.status, second.status) == ("sent", "sent")
    assert first.provider_message_id != second.provider_message_id
