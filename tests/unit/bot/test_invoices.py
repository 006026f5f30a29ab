"""/invoices REF and its buttons: the list, each PDF as a document, and stale or refused presses."""

from __future__ import annotations

import io

from pypdf import PdfReader

from core.usecases.billing import IncomingPayment, record_payment


def _pdf_text(content: bytes) -> str:
    reader = PdfReader(io.BytesIO(content))
    return "\n".join(page.extract_text() for page in reader.pages)


def test_invoices_lists_newest_first_with_a_pdf_button_each(
    chat, make_customer, button_labels
) -> None:
    customer = make_customer(paid=1500)
    admin = chat("admin")
    admin.say(f"/debt {customer.account_number} 700 router")
    answer = chat("viewer").say(f"/invoices {customer.account_number}")
    lines = answer.text.splitlines()
    assert lines[0] == (
        f"Invoices of Wanjiku Kamau 1 ({customer.account_number}): 2 in all, KES 700 unpaid. "
        "Newest first:"
    )
    assert lines[1].startswith("INV-000002 2026-11-22 debt · KES 700 · unpaid")
    assert lines[2] == ("INV-000001 2026-11-22 Home 10M 2026-11-22 → 2026-12-22 · KES 1,500 · paid")
    assert "RCT-000001 2026-11-22 12:00 KES 1,500 cash" in answer.text
    assert button_labels(answer) == ["📄 INV-000002", "📄 INV-000001", "🧾 RCT-000001", "Card"]


def test_the_button_sends_the_invoice_pdf_with_the_totals(
    chat, make_customer, services, staff
) -> None:
    customer = make_customer()
    agent = chat("agent")
    assert "may not use /debt" in agent.say(f"/debt {customer.account_number} 1500").text
    chat("admin").say(f"/debt {customer.account_number} 1500")
    with services.unit_of_work() as uow:
        payment = IncomingPayment(1000, "mpesa", "RKPDF00001")
        record_payment(uow, customer.id, staff, payment)
        uow.commit()
    listing = agent.say(f"/invoices {customer.account_number}")
    assert "KES 1,500 · partially paid, KES 500 due" in listing.text
    sent = agent.press(listing, "📄 INV-000001")
    assert sent.attachment is not None and sent.attachment.kind == "document"
    assert sent.attachment.filename == "INV-000001.pdf"
    assert sent.text.endswith("KES 1,500 · partially paid")
    text = _pdf_text(sent.attachment.content)
    assert "INV-000001" in text and customer.account_number in text
    assert "Total KES 1,500" in text
    assert "Paid KES 1,000" in text
    assert "Balance due KES 500" in text
    assert "RKPDF00001" in text and "RCT-000001" in text

    receipt = agent.press(listing, "🧾 RCT-000001")
    assert receipt.attachment is not None and receipt.attachment.filename == "RCT-000001.pdf"
    assert "RKPDF00001" in _pdf_text(receipt.attachment.content)


def test_a_button_for_a_missing_invoice_says_so(chat) -> None:
    viewer = chat("viewer")
    answer = viewer.press_data("inv:99")
    assert answer.attachment is None
    assert answer.text.startswith("⚠️ There is no invoice INV-000099")
    assert answer.toast == "Not found."
    receipt = viewer.press_data("rct:7")
    assert receipt.text.startswith("⚠️ There is no receipt RCT-000007")
    assert viewer.press_data("inv:abc").toast is not None  # not data this bot made


def test_a_customer_without_invoices_and_bad_arguments(chat, make_customer) -> None:
    customer = make_customer()
    viewer = chat("viewer")
    empty = viewer.say(f"/invoices {customer.account_number}")
    assert empty.text == (
        f"Wanjiku Kamau 1 ({customer.account_number}) has no invoices or receipts yet."
    )
    assert viewer.say("/invoices").text.startswith("Usage: /invoices REF")
    assert "no customer" in viewer.say("/invoices nobody-here").text.lower()


def test_strangers_get_no_pdf(chat, make_customer) -> None:
    customer = make_customer(paid=1500)
    stranger = chat("stranger")
    assert "not authorised" in stranger.say(f"/invoices {customer.account_number}").text
    pressed = stranger.press_data("inv:1")
    assert pressed.attachment is None and "not authorised" in pressed.text


def test_help_lists_invoices_for_every_role(chat) -> None:
    assert "/invoices REF" in chat("viewer").say("/help").text
