"""Invoices and receipts: a customer's newest ones, and each as a PDF document."""

from __future__ import annotations

from datetime import datetime

from bot.answers import Answer, Attachment, Button, rows
from bot.commands.card import resolved_customer
from bot.context import Context
from bot.parsing import CommandLine
from core.display import kes, local_time
from core.errors import NotFound
from core.invoice_pdf import invoice_pdf, receipt_pdf
from core.usecases.invoices import (
    InvoiceSummary,
    ReceiptSummary,
    customer_documents,
    invoice_document,
    receipt_document,
    status_text,
)


def cmd_invoices(ctx: Context, line: CommandLine) -> Answer:
    """``/invoices REF``: the customer's newest invoices and receipts, a button for each PDF."""
    customer_id, _ = resolved_customer(ctx, line.word(0))
    return invoices_answer(ctx, customer_id)


def invoices_answer(ctx: Context, customer_id: int) -> Answer:
    with ctx.uow() as uow:
        documents = customer_documents(uow, ctx.actor, customer_id)
    who = f"{documents.customer.name} ({documents.customer.account_number})"
    card = Button("Card", f"c:{customer_id}")
    if not documents.invoices and not documents.receipts:
        return Answer(f"{who} has no invoices or receipts yet.", ((card,),))
    text = [
        f"Invoices of {who}: {documents.invoice_count} in all, "
        f"{kes(documents.due_kes)} unpaid. Newest first:"
    ]
    text += [_invoice_line(invoice, ctx) for invoice in documents.invoices] or ["(none)"]
    if documents.receipts:
        text += ["", "Receipts:"] + [_receipt_line(receipt, ctx) for receipt in documents.receipts]
    buttons = [
        Button(f"📄 {invoice.label}", f"inv:{invoice.number}") for invoice in documents.invoices
    ]
    buttons += [
        Button(f"🧾 {receipt.label}", f"rct:{receipt.number}") for receipt in documents.receipts
    ]
    return Answer("\n".join(text), (*rows(buttons, 2), (card,)))


def _invoice_line(invoice: InvoiceSummary, ctx: Context) -> str:
    what = invoice.plan_name or invoice.kind
    if invoice.period_start is not None and invoice.period_end is not None:
        what += f" {_day(invoice.period_start, ctx)} → {_day(invoice.period_end, ctx)}"
    status = status_text(invoice.status)
    if invoice.due_kes and invoice.paid_kes:
        status += f", {kes(invoice.due_kes)} due"
    issued = _day(invoice.issued_at, ctx)
    return f"{invoice.label} {issued} {what} · {kes(invoice.amount_kes)} · {status}"


def _day(value: datetime, ctx: Context) -> str:
    return value.astimezone(ctx.zone).strftime("%Y-%m-%d")


def _receipt_line(receipt: ReceiptSummary, ctx: Context) -> str:
    reference = f" {receipt.reference}" if receipt.reference else ""
    return (
        f"{receipt.label} {local_time(receipt.received_at, ctx.zone)} "
        f"{kes(receipt.amount_kes)} {receipt.method}{reference}"
    )


def press_invoice(ctx: Context, number: int) -> Answer:
    """The invoice as a PDF document."""
    try:
        with ctx.uow() as uow:
            document = invoice_document(uow, ctx.actor, number)
    except NotFound as missing:
        return _missing(missing)
    caption = (
        f"{document.label} · {document.customer.name} ({document.customer.account_number}) · "
        f"{kes(document.amount_kes)} · {status_text(document.status)}"
    )
    pdf = invoice_pdf(document)
    return Answer(caption, attachment=Attachment(f"{document.label}.pdf", pdf, "document"))


def press_receipt(ctx: Context, number: int) -> Answer:
    """The receipt as a PDF document."""
    try:
        with ctx.uow() as uow:
            document = receipt_document(uow, ctx.actor, number)
    except NotFound as missing:
        return _missing(missing)
    reference = f" {document.reference}" if document.reference else ""
    caption = (
        f"{document.label} · {document.customer.name} ({document.customer.account_number}) · "
        f"{kes(document.amount_kes)} {document.method}{reference}"
    )
    pdf = receipt_pdf(document)
    return Answer(caption, attachment=Attachment(f"{document.label}.pdf", pdf, "document"))


def _missing(missing: NotFound) -> Answer:
    # The button outlived its document (a restored backup, another database): say so plainly.
    text = f"⚠️ {missing.message[0].upper()}{missing.message[1:]}; send /invoices REF again."
    return Answer(text, toast="Not found.")
