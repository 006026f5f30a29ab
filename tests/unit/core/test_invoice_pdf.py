"""The PDFs, read back with pypdf: the ISP, the customer, the lines, the right totals and the
M-Pesa receipts of the payments applied."""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import replace

import pytest
from pypdf import PdfReader

from core.invoice_pdf import invoice_pdf, receipt_pdf
from core.testing import in_memory_engine, services_for
from core.unit_of_work import CoreConfig, CoreServices
from core.usecases.billing import IncomingPayment, record_debt, record_payment
from core.usecases.customers import NewCustomer, create_customer
from core.usecases.invoices import invoice_document, receipt_document
from core.usecases.network import RouterSpec, add_pool, add_router
from core.usecases.plans import PlanSpec, add_plan

ISP = CoreConfig(
    isp_name="Kilimo Net Ltd",
    support_phone="+254712000111",
    paybill_number="600123",
    isp_address="Moi Avenue 12, Nakuru",
    isp_email="billing@kilimo.example",
)


def text_of(pdf: bytes) -> str:
    assert pdf.startswith(b"%PDF-")
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


@pytest.fixture
def books(staff, clock) -> Iterator[CoreServices]:
    """An ISP with its contacts set, and a customer with a name outside Latin-1."""
    engine = in_memory_engine()
    services = services_for(engine, clock=clock, config=ISP)
    with services.unit_of_work() as uow:
        add_router(
            uow, staff, RouterSpec("core-1", "127.0.0.1", 8728, "admin", "secret", plain_api=True)
        )
        add_pool(uow, staff, "core-1", "10.10.0.0/29")
        add_plan(uow, staff, PlanSpec("Home 10M", "pppoe", 1500, "10M", "5M", validity_days=30))
        form = NewCustomer("Wanjikũ Kamau Żaneta", "0712345678", "pppoe", "Home 10M", "core-1")
        create_customer(uow, staff, form)
        uow.commit()
    yield services
    engine.dispose()


def test_a_partly_paid_debt_shows_totals_and_mpesa_receipts(books, staff) -> None:
    with books.unit_of_work() as uow:
        record_debt(uow, 1, staff, 4500, "three months")
        record_payment(uow, 1, staff, IncomingPayment(1000, "mpesa", "RKA1B2C3D4"))
        record_payment(uow, 1, staff, IncomingPayment(2250, "cash", "slip 77"))
        uow.commit()
        document = invoice_document(uow, staff, 1)
        account = document.customer.account_number
    text = text_of(invoice_pdf(document))
    for expected in (
        "Kilimo Net Ltd",
        "Moi Avenue 12, Nakuru",
        "Phone: 0712 000111",
        "billing@kilimo.example",
        "INVOICE",
        "INV-000001",
        "Status: PARTIALLY PAID",
        "Wanjikũ Kamau Żaneta",
        f"Account number: {account}",
        "Home 10M (30 days) on credit: three months",
        "Total KES 4,500",
        "Paid KES 3,250",
        "Balance due KES 1,250",
        "RCT-000001 M-Pesa RKA1B2C3D4 1,000",
        "RCT-000002 Cash SLIP 77 2,250",
        f"Pay by M-Pesa: paybill 600123, account {account}.",
    ):
        assert expected in text, expected


def test_an_invoice_of_many_lines_runs_onto_a_second_page(books, staff) -> None:
    with books.unit_of_work() as uow:
        record_payment(uow, 1, staff, IncomingPayment(1500 * 40, "mpesa", "RKMANY0001"))
        uow.commit()
        document = invoice_document(uow, staff, "INV-000001")
    # A renewal is one line however many periods it buys; a long invoice is still paginated.
    [line] = document.lines
    assert line.description == "40 × Home 10M (30 days)" and line.amount_kes == 60_000
    pdf = invoice_pdf(replace(document, lines=[replace(line, amount_kes=1500)] * 40))
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) >= 2
    text = text_of(pdf)
    assert text.count("40 × Home 10M (30 days)") == 40
    assert "Total KES 60,000" in text and "Balance due KES 0" in text
    assert "Status: PAID" in text and "Pay by M-Pesa" not in text  # nothing due


def test_a_receipt_shows_the_money_and_what_it_paid(books, staff) -> None:
    with books.unit_of_work() as uow:
        record_payment(uow, 1, staff, IncomingPayment(2000, "mpesa", "RKRCPT0001"))
        uow.commit()
        document = receipt_document(uow, staff, 1)
    text = text_of(receipt_pdf(document))
    for expected in (
        "RECEIPT",
        "RCT-000001",
        "Received from",
        "Wanjikũ Kamau Żaneta",
        "M-Pesa receipt RKRCPT0001",
        "INV-000001 1,500",
        "Amount received KES 2,000",
        "Applied to invoices KES 1,500",
        "Kept as credit KES 500",
    ):
        assert expected in text, expected


def test_the_same_document_renders_the_same_bytes(books, staff) -> None:
    with books.unit_of_work() as uow:
        record_payment(uow, 1, staff, IncomingPayment(1500, "cash"))
        uow.commit()
        document = invoice_document(uow, staff, 1)
    assert invoice_pdf(document) == invoice_pdf(document)
    plainer = replace(document, isp=replace(document.isp, address="", email="", paybill=""))
    text = text_of(invoice_pdf(plainer))
    assert "Email" not in text and "paybill" not in text


def test_the_long_running_processes_do_not_load_fpdf_until_a_pdf_is_printed() -> None:
    """Issue 18: fpdf2 (with Pillow, fontTools, numpy) is about 30 MB of every process's RSS."""
    import subprocess
    import sys

    code = "import sys, mteja.cli, mteja.queueing; print('fpdf' in sys.modules)"
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert loaded == "False"
