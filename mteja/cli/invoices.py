"""``mteja invoice …`` and ``mteja receipt …``: a customer's documents, and one as a PDF file."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo

import typer
from rich.table import Column, Table

from core.display import kes, local_time
from core.invoice_pdf import invoice_pdf, receipt_pdf
from core.lookup import resolve
from core.usecases.invoices import (
    customer_documents,
    invoice_document,
    receipt_document,
    status_text,
)
from mteja.cli.shared import ACTOR, fail, opened_system, out

LIST_LIMIT = 50
Reference = Annotated[str, typer.Argument(help="Account number, phone, username or IP")]
Output = Annotated[
    Path | None, typer.Option("--output", "-o", help="Where to write the PDF (default: NUMBER.pdf)")
]

invoice_app = typer.Typer(help="Invoices.", no_args_is_help=True)
receipt_app = typer.Typer(help="Receipts of payments.", no_args_is_help=True)


@invoice_app.command("list")
def invoice_list(reference: Reference) -> None:
    """List a customer's invoices, newest first."""
    with opened_system() as system, system.services.unit_of_work() as uow:
        customer_id = resolve(uow, reference).id
        documents = customer_documents(uow, ACTOR, customer_id, limit=LIST_LIMIT)
        zone = system.settings.zone
    who = f"{documents.customer.name} ({documents.customer.account_number})"
    if not documents.invoices:
        out.print(f"{who} has no invoices yet.", markup=False)
        return
    table = Table(
        Column("invoice", no_wrap=True),
        "for",
        Column("period (or issued)", no_wrap=True),
        Column("amount", justify="right"),
        "status",
    )
    for invoice in documents.invoices:
        start, end = invoice.period_start, invoice.period_end
        period = f"{_day(start, zone)}–{_day(end, zone)}" if start and end else ""
        status = status_text(invoice.status)
        if invoice.due_kes and invoice.paid_kes:
            status += f", {kes(invoice.due_kes)} due"
        table.add_row(
            invoice.label,
            invoice.plan_name or invoice.kind,
            period or _day(invoice.issued_at, zone),
            kes(invoice.amount_kes),
            status,
        )
    out.print(table)
    out.print(
        f"{who}: {documents.invoice_count} invoice(s), {kes(documents.due_kes)} unpaid",
        markup=False,
    )


@invoice_app.command("pdf")
def invoice_pdf_command(
    number: Annotated[str, typer.Argument(help="Invoice number: INV-000123 or 123")],
    output: Output = None,
) -> None:
    """Write one invoice as a PDF file."""
    with opened_system() as system, system.services.unit_of_work() as uow:
        document = invoice_document(uow, ACTOR, number)
    target = output or Path(f"{document.label}.pdf")
    _write(target, invoice_pdf(document))
    out.print(f"{document.label} written to {target}", markup=False)


@receipt_app.command("list")
def receipt_list(reference: Reference) -> None:
    """List a customer's receipts, newest first."""
    with opened_system() as system, system.services.unit_of_work() as uow:
        customer_id = resolve(uow, reference).id
        documents = customer_documents(uow, ACTOR, customer_id, limit=LIST_LIMIT)
        zone = system.settings.zone
    if not documents.receipts:
        out.print(f"{documents.customer.name} has no receipts yet.", markup=False)
        return
    table = Table(Column("receipt", no_wrap=True), "received", "amount", "method", "reference")
    for receipt in documents.receipts:
        table.add_row(
            receipt.label,
            local_time(receipt.received_at, zone),
            kes(receipt.amount_kes),
            receipt.method,
            receipt.reference or "-",
        )
    out.print(table)


@receipt_app.command("pdf")
def receipt_pdf_command(
    number: Annotated[str, typer.Argument(help="Receipt number: RCT-000045 or 45")],
    output: Output = None,
) -> None:
    """Write one receipt as a PDF file."""
    with opened_system() as system, system.services.unit_of_work() as uow:
        document = receipt_document(uow, ACTOR, number)
    target = output or Path(f"{document.label}.pdf")
    _write(target, receipt_pdf(document))
    out.print(f"{document.label} written to {target}", markup=False)


def _day(value: datetime, zone: ZoneInfo) -> str:
    return value.astimezone(zone).strftime("%Y-%m-%d")


def _write(path: Path, content: bytes) -> None:
    try:
        path.write_bytes(content)
    except OSError as exc:
        fail(f"cannot write {path}: {exc.strerror or exc}")
