"""The customer page's tabs (all but details): one GET handler per tab, each reading one core
query and rendering ``customer/tab_<name>.html`` inside the customer frame. Also the invoice and
receipt PDFs, and the live-usage fragment htmx refreshes."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from typing import Any

from starlette.responses import Response
from starlette.routing import Route

from core.customer_records import check_page, extension_lines, ledger_lines, note_lines, sms_lines
from core.display import bit_rate, data_amount, duration_text
from core.errors import InvalidInput, InvoiceNotFound, NotFound, ReceiptNotFound
from core.history import HistoryPage, HistoryTab, customer_history
from core.invoice_pdf import invoice_pdf, receipt_pdf
from core.models import Customer
from core.unit_of_work import UnitOfWork
from core.usage import (
    check_range,
    daily_usage,
    default_range,
    period_summary,
    period_usage,
    session_view,
    stored_session,
)
from core.usecases.invoices import customer_documents, invoice_document, receipt_document
from core.usecases.ticket_desk import customer_tickets
from core.usecases.tickets import staff_words
from routers.presence import Presence
from routers.usage import live_counters
from web.console.charts import stacked_bar_chart
from web.console.customer_frame import customer_frame, find_customer
from web.console.framework import PREFIX, Console, View

LOG_PAGE_SIZE = 25
DOCUMENTS_SHOWN = 50


def _account(view: View) -> str:
    return str(view.request.path_params["account"])


def _page(view: View) -> int:
    """The ``page`` query parameter (from 1 in URLs) as a page from 0; 400 when not a number."""
    text = view.query("page", "1").strip()
    if not re.fullmatch(r"[0-9]{1,6}", text) or int(text) < 1:
        raise InvalidInput("page is a whole number from 1")
    return check_page(int(text) - 1)


def _tab(view: View, segment: str, **values: Any) -> Response:
    return view.render(f"customer/tab_{segment.replace('-', '_')}.html", **values)


def _framed(uow: UnitOfWork, view: View, segment: str) -> tuple[Customer, dict[str, Any]]:
    customer = find_customer(uow, _account(view))
    return customer, customer_frame(uow, customer, segment)


def _paged_tab(
    view: View, segment: str, name: str, read: Callable[[UnitOfWork, int, int], object]
) -> Response:
    """A tab that lists one page of ``read(uow, customer_id, page)``, shown as ``name``."""
    page = _page(view)
    with view.uow(read_only=True) as uow:
        customer, frame = _framed(uow, view, segment)
        lines = read(uow, customer.id, page)
    return _tab(view, segment, **frame, **{name: lines})


def transactions(view: View) -> Response:
    """Payments and ledger lines, with the balance after each."""
    return _paged_tab(view, "transactions", "ledger", ledger_lines)


def invoices(view: View) -> Response:
    """Invoices and receipts, each with its PDF."""
    with view.uow(read_only=True) as uow:
        customer, frame = _framed(uow, view, "invoices")
        documents = customer_documents(uow, view.actor, customer.id, limit=DOCUMENTS_SHOWN)
    return _tab(view, "invoices", **frame, documents=documents, shown=DOCUMENTS_SHOWN)


def invoice_file(view: View) -> Response:
    """An invoice of this customer as a PDF (404 for another customer's)."""
    return _document_file(view, invoice_document, invoice_pdf, InvoiceNotFound, "invoice")


def receipt_file(view: View) -> Response:
    """A receipt of this customer as a PDF (404 for another customer's)."""
    return _document_file(view, receipt_document, receipt_pdf, ReceiptNotFound, "receipt")


def _document_file(
    view: View,
    read: Callable[[UnitOfWork, Any, str], Any],
    render: Callable[[Any], bytes],
    not_found: type[NotFound],
    kind: str,
) -> Response:
    """The customer's document ``number`` as a PDF; ``not_found`` when it is another's."""
    number = str(view.request.path_params["number"])
    with view.uow(read_only=True) as uow:
        account = find_customer(uow, _account(view)).account_number
        document = read(uow, view.actor, number)
    if document.customer.account_number != account:
        raise not_found(f"{account} has no {kind} {number}")
    return _pdf(render(document), document.label)


def _pdf(content: bytes, name: str) -> Response:
    return Response(
        content,
        media_type="application/pdf",
        headers={"content-disposition": f'inline; filename="{name}.pdf"'},
    )


def sub_accounts(view: View) -> Response:
    """The customer's sub-accounts, and their parent account if they are one."""
    with view.uow(read_only=True) as uow:
        _, frame = _framed(uow, view, "sub-accounts")
    return _tab(view, "sub-accounts", **frame)


def _ask_router(view: View, account: str) -> Presence | None:
    """The router's answer right now (short timeouts), asked outside any transaction; None when
    this console has no router access (tests, a web process without routers)."""
    if view.console.presence is None:
        return None
    with view.uow(read_only=True) as uow:
        customer_id = find_customer(uow, account).id
    return view.console.presence(customer_id)


def _live_values(uow: UnitOfWork, customer: Customer, presence: Presence | None) -> dict[str, Any]:
    """The session as the router tells it now (or, without an answer, as the last usage sample
    saw it), and this period's data against the cap."""
    stored = stored_session(uow, customer.id)
    period = period_usage(uow, customer)
    now = uow.clock.now()
    live = live_counters(presence, now) if presence is not None else None
    offline = presence is not None and presence.state == "offline"
    return {
        "presence": presence,
        "session": None if offline else session_view(stored, live),
        "last_session": stored,
        "period": period,
        "period_text": period_summary(period),
        "bit_rate": bit_rate,
        "duration_text": duration_text,
        "usage_path": f"{PREFIX}/customers/{customer.account_number}/usage",
        "live_path": f"{PREFIX}/customers/{customer.account_number}/usage/live",
    }


def usage(view: View) -> Response:
    """Live usage: the current session, its rate and uptime, and this period's data."""
    presence = _ask_router(view, _account(view))
    with view.uow(read_only=True) as uow:
        customer, frame = _framed(uow, view, "usage")
        live = _live_values(uow, customer, presence)
    return _tab(view, "usage", **frame, **live)


def usage_live(view: View) -> Response:
    """The live part of the usage tab alone, for htmx to swap in every few seconds."""
    presence = _ask_router(view, _account(view))
    with view.uow(read_only=True) as uow:
        customer = find_customer(uow, _account(view))
        live = _live_values(uow, customer, presence)
    return view.render("customer/_usage_live.html", **live)


def _day(view: View, name: str, default: date) -> date:
    text = view.query(name).strip()
    if not text:
        return default
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"{name} is a date such as 2026-01-31, not {text[:20]!r}") from None


def daily(view: View) -> Response:
    """Daily usage over a range of days (default the last 30) as a chart and a table."""
    with view.uow(read_only=True) as uow:
        customer, frame = _framed(uow, view, "daily-usage")
        first, last = default_range(uow)
        first, last = _day(view, "from", first), _day(view, "to", last)
        check_range(first, last)
        days = daily_usage(uow, customer.id, first, last)
    chart = stacked_bar_chart(
        [(day.day.strftime("%d %b"), (day.download_bytes, day.upload_bytes)) for day in days],
        title=f"Data per day, {first} to {last}",
        unit_label=data_amount,
        series=("Download", "Upload"),
    )
    return _tab(
        view,
        "daily-usage",
        **frame,
        days=days,
        first=first,
        last=last,
        chart=chart,
        download_total=sum(day.download_bytes for day in days),
        upload_total=sum(day.upload_bytes for day in days),
    )


def extensions(view: View) -> Response:
    """Every extension of the customer's expiry: when, how much, by whom, why."""
    with view.uow(read_only=True) as uow:
        customer, frame = _framed(uow, view, "extensions")
        lines = extension_lines(uow, customer.id)
    return _tab(view, "extensions", **frame, lines=lines, duration_text=duration_text)


def sms(view: View) -> Response:
    """SMS both ways with their delivery status."""
    return _paged_tab(view, "sms", "messages", sms_lines)


def logs(view: View) -> Response:
    """The audit log of the customer: who did what, before → after, why."""
    return _paged_tab(view, "logs", "history", _audit_history)


def _audit_history(uow: UnitOfWork, customer_id: int, page: int) -> HistoryPage:
    return customer_history(uow, customer_id, HistoryTab.AUDIT, page, LOG_PAGE_SIZE)


def notes(view: View) -> Response:
    """Staff notes and the customer's tickets."""
    with view.uow(read_only=True) as uow:
        customer, frame = _framed(uow, view, "notes")
        kept = note_lines(uow, customer.id)
        tickets = customer_tickets(uow, customer.id)
    return _tab(view, "notes", **frame, notes=kept, tickets=tickets, category_words=staff_words)


def customer_tab_routes(console: Console) -> list[Route]:
    base = "/customers/{account}"
    pages = {
        "transactions": transactions,
        "invoices": invoices,
        "sub-accounts": sub_accounts,
        "usage": usage,
        "usage/live": usage_live,
        "daily-usage": daily,
        "extensions": extensions,
        "sms": sms,
        "logs": logs,
        "notes": notes,
        "invoices/{number}.pdf": invoice_file,
        "receipts/{number}.pdf": receipt_file,
    }
    return [
        Route(f"{base}/{path}", console.page(handler), methods=["GET"])
        for path, handler in pages.items()
    ]
