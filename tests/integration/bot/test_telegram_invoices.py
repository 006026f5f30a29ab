"""/invoices through python-telegram-bot and the fake Bot API: the button sends a PDF document."""

from __future__ import annotations

VIEWER = 1004


def test_the_invoice_button_sends_a_pdf_document(telegram, bot_app, add_customer) -> None:
    customer = add_customer(paid=1500)
    telegram.says(VIEWER, f"/invoices {customer.account_number}")
    listing = telegram.wait_for_messages(VIEWER, 1)
    assert listing.labels == ["📄 INV-000001", "🧾 RCT-000001", "Card"]
    query = telegram.presses(VIEWER, listing, "📄 INV-000001")
    sent = telegram.wait_for_messages(VIEWER, 2)
    assert (sent.kind, sent.filename) == ("document", "INV-000001.pdf")
    assert sent.content.startswith(b"%PDF-")
    assert sent.text.startswith("INV-000001 · Wanjiku Kamau 1")
    assert telegram.wait_for(lambda: query in telegram.answered, what="the query answer")
