"""Invoices and receipts as A4 PDF files: what the adapters call.

The layout (``core.invoice_layout``) is imported when a document is first printed, not when this
module is: fpdf2 brings Pillow, fontTools and numpy, about 30 MB of resident memory in every
process that imports the command line (the web app, the workers, the bot), which almost never
print one (issue 18).
"""

from __future__ import annotations

from core.usecases.invoices import InvoiceDocument, ReceiptDocument

__all__ = ["invoice_pdf", "receipt_pdf"]


def invoice_pdf(document: InvoiceDocument) -> bytes:
    """The invoice as a PDF file (see ``core.invoice_layout.invoice_pdf``)."""
    from core.invoice_layout import invoice_pdf as layout

    return layout(document)


def receipt_pdf(document: ReceiptDocument) -> bytes:
    """The receipt as a PDF file (see ``core.invoice_layout.receipt_pdf``)."""
    from core.invoice_layout import receipt_pdf as layout

    return layout(document)
