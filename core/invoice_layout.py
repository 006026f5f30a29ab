"""Invoices and receipts as A4 PDF files (fpdf2): the layout. Imported only when a document is
printed, through ``core.invoice_pdf``.

This sits in core, although it is presentation, because two adapters print the same documents
(the staff bot sends them, ``mteja invoice pdf`` writes them) and neither may import the other.
fpdf2 is a pure library that does no I/O of its own, so core stays free of adapters. The text is
set in DejaVu Sans, the font matplotlib (a dependency already) ships, so any name prints, not only
Latin-1; fpdf2 embeds just the glyphs used.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from core.display import kes, local_time
from core.phones import display_phone
from core.usecases.invoices import (
    AppliedPayment,
    BilledCustomer,
    InvoiceDocument,
    IspDetails,
    ReceiptDocument,
    status_text,
)

FONT = "DejaVu"
PAGE_WIDTH = 180  # A4 less 15 mm margins
LINE = 6


def invoice_pdf(document: InvoiceDocument) -> bytes:
    """The invoice: ISP, customer, lines, totals, and the payments (with M-Pesa receipts) that
    paid it."""
    zone = document.zone
    pdf = _new_pdf(f"Invoice {document.label}", document.isp, document.issued_at)
    _heading(
        pdf,
        document.isp,
        "INVOICE",
        [
            document.label,
            f"Issued {local_time(document.issued_at, zone)}",
            f"Status: {status_text(document.status).upper()}",
        ],
    )
    _billed_to(pdf, document.customer)
    _section(pdf, "Charges")
    with pdf.table(
        col_widths=(85, 65, 30), text_align=("LEFT", "LEFT", "RIGHT"), line_height=LINE
    ) as table:
        table.row(["Description", "Period", "Amount (KES)"])
        for line in document.lines:
            table.row(
                [
                    line.description,
                    _period(line.period_start, line.period_end, zone),
                    _n(line.amount_kes),
                ]
            )
    _totals(
        pdf,
        [
            ("Total", document.amount_kes),
            ("Paid", document.paid_kes),
            ("Balance due", document.due_kes),
        ],
    )
    if document.payments:
        _section(pdf, "Payments applied")
        with pdf.table(
            col_widths=(34, 28, 22, 66, 30),
            text_align=("LEFT", "LEFT", "LEFT", "LEFT", "RIGHT"),
            line_height=LINE,
        ) as table:
            table.row(["Date", "Receipt", "Method", "M-Pesa receipt / reference", "Amount (KES)"])
            for payment in document.payments:
                table.row(_payment_row(payment, zone))
    if document.due_kes > 0 and document.isp.paybill:
        _note(
            pdf,
            f"Pay by M-Pesa: paybill {document.isp.paybill}, "
            f"account {document.customer.account_number}.",
        )
    _note(pdf, "Thank you for staying connected with us.")
    return bytes(pdf.output())


def receipt_pdf(document: ReceiptDocument) -> bytes:
    """The receipt of one payment: the money, its reference, and what it has paid."""
    zone = document.zone
    pdf = _new_pdf(f"Receipt {document.label}", document.isp, document.issued_at)
    _heading(
        pdf,
        document.isp,
        "RECEIPT",
        [document.label, f"Issued {local_time(document.issued_at, zone)}"],
    )
    _billed_to(pdf, document.customer, heading="Received from")
    _section(pdf, "Payment")
    reference_label = "M-Pesa receipt" if document.method == "mpesa" else "Reference"
    with pdf.table(
        col_widths=(60, 120),
        text_align=("LEFT", "LEFT"),
        line_height=LINE,
        first_row_as_headings=False,
    ) as table:
        table.row(["Received", local_time(document.received_at, zone)])
        table.row(["Method", _method(document.method)])
        table.row([reference_label, document.reference or "-"])
        table.row(["Amount", kes(document.amount_kes)])
    if document.applied:
        _section(pdf, "Applied to")
        with pdf.table(
            col_widths=(120, 60), text_align=("LEFT", "RIGHT"), line_height=LINE
        ) as table:
            table.row(["Invoice", "Amount (KES)"])
            for invoice_label, amount in document.applied:
                table.row([invoice_label, _n(amount)])
    _totals(
        pdf,
        [
            ("Amount received", document.amount_kes),
            ("Applied to invoices", document.amount_kes - document.unapplied_kes),
            ("Kept as credit", document.unapplied_kes),
        ],
    )
    _note(pdf, "Thank you for your payment.")
    return bytes(pdf.output())


def _new_pdf(title: str, isp: IspDetails, created_at: datetime) -> FPDF:
    pdf = FPDF(format="A4")
    pdf.set_margins(15, 15, 15)
    pdf.set_auto_page_break(True, margin=15)
    fonts = _font_dir()
    pdf.add_font(FONT, "", str(fonts / "DejaVuSans.ttf"))
    pdf.add_font(FONT, "B", str(fonts / "DejaVuSans-Bold.ttf"))
    pdf.set_title(title)
    pdf.set_author(isp.name)
    pdf.set_creator("mteja")
    # The document's own date, so the same invoice renders to the same bytes.
    pdf.set_creation_date(created_at)
    pdf.add_page()
    return pdf


def _font_dir() -> Path:
    import matplotlib

    return Path(matplotlib.get_data_path()) / "fonts" / "ttf"


def _heading(pdf: FPDF, isp: IspDetails, title: str, facts: list[str]) -> None:
    """The ISP and its contacts on the left, the document's title and facts on the right."""
    top = pdf.get_y()
    pdf.set_font(FONT, "B", 16)
    pdf.multi_cell(110, 8, isp.name, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(FONT, "", 9)
    contacts = [
        isp.address,
        f"Phone: {display_phone(isp.phone)}" if isp.phone else "",
        f"Email: {isp.email}" if isp.email else "",
        f"M-Pesa paybill: {isp.paybill}" if isp.paybill else "",
    ]
    for contact in contacts:
        if contact:
            pdf.multi_cell(110, 5, contact, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    left_bottom = pdf.get_y()
    pdf.set_xy(125, top)
    pdf.set_font(FONT, "B", 18)
    pdf.cell(70, 9, title, align="R", new_x=XPos.LEFT, new_y=YPos.NEXT)
    pdf.set_font(FONT, "", 10)
    for fact in facts:
        pdf.cell(70, 6, fact, align="R", new_x=XPos.LEFT, new_y=YPos.NEXT)
    pdf.set_xy(pdf.l_margin, max(left_bottom, pdf.get_y()) + 4)
    pdf.line(pdf.l_margin, pdf.get_y(), pdf.l_margin + PAGE_WIDTH, pdf.get_y())
    pdf.ln(4)


def _billed_to(pdf: FPDF, customer: BilledCustomer, heading: str = "Bill to") -> None:
    pdf.set_font(FONT, "B", 10)
    pdf.cell(PAGE_WIDTH, LINE, heading, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(FONT, "", 10)
    lines = [customer.name, f"Account number: {customer.account_number}"]
    if customer.phone:
        lines.append(f"Phone: {display_phone(customer.phone)}")
    for text in lines:
        pdf.multi_cell(PAGE_WIDTH, 5, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(3)


def _section(pdf: FPDF, title: str) -> None:
    pdf.ln(2)
    pdf.set_font(FONT, "B", 11)
    pdf.cell(PAGE_WIDTH, 7, title, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(FONT, "", 9)


def _totals(pdf: FPDF, figures: list[tuple[str, int]]) -> None:
    pdf.ln(3)
    for index, (name, amount) in enumerate(figures):
        last = index == len(figures) - 1
        pdf.set_font(FONT, "B" if last else "", 10)
        pdf.cell(PAGE_WIDTH - 40, LINE, name, align="R")
        pdf.cell(40, LINE, kes(amount), align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def _note(pdf: FPDF, text: str) -> None:
    pdf.ln(3)
    pdf.set_font(FONT, "", 9)
    pdf.multi_cell(PAGE_WIDTH, 5, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def _payment_row(payment: AppliedPayment, zone: ZoneInfo) -> list[str]:
    if payment.receipt is None and payment.method is None:
        return ["-", "-", "account credit", "credit held before invoices", _n(payment.amount_kes)]
    return [
        local_time(payment.received_at, zone),
        payment.receipt or "-",
        _method(payment.method or ""),
        payment.reference or "-",
        _n(payment.amount_kes),
    ]


def _period(start: datetime | None, end: datetime | None, zone: ZoneInfo) -> str:
    if start is None or end is None:
        return "-"
    return f"{local_time(start, zone)} to {local_time(end, zone)}"


def _method(method: str) -> str:
    return {"mpesa": "M-Pesa"}.get(method, method.title())


def _n(amount: int) -> str:
    return f"{amount:,}"
