"""Payments received: a list between two local days, filtered by method and status, paged, and
the same list as a CSV file (admins and owners; core audits it)."""

from __future__ import annotations

from datetime import timedelta

from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from core.actors import Permission
from core.dashboard import today
from core.errors import InvalidInput
from core.payment_list import (
    PaymentFilter,
    PaymentStatus,
    export_payments,
    payment_page,
    read_payment_filter,
)
from core.unit_of_work import UnitOfWork
from core.vocabulary import PaymentMethod
from web.console.framework import Console, View, csv_download

PAGE_SIZE = 50
DEFAULT_DAYS = 7  # with no dates given: the last week, today included
PARAMETERS = ("from", "to", "method", "status")


def _filter(view: View, uow: UnitOfWork) -> PaymentFilter:
    """The filter the query asks for; no dates: the last week; one date: that day alone."""
    first, last = view.query("from").strip(), view.query("to").strip()
    if not first and not last:
        end = today(uow)
        first, last = (end - timedelta(days=DEFAULT_DAYS - 1)).isoformat(), end.isoformat()
    return read_payment_filter(
        first or last, last or first, view.query("method"), view.query("status")
    )


def _page_number(view: View) -> int:
    text = view.query("page", "1").strip()
    if not text.isdigit() or int(text) < 1 or len(text) > 6:
        raise InvalidInput(f"page must be a whole number from 1, not {text!r}")
    return int(text)


def payments(view: View) -> Response:
    """One page of the payments asked for, with how many there are and their sum."""
    number = _page_number(view)
    with view.uow(read_only=True) as uow:
        wanted = _filter(view, uow)
        page = payment_page(uow, view.actor, wanted, (number - 1) * PAGE_SIZE, PAGE_SIZE)
    params = {
        "from": wanted.first.isoformat(),
        "to": wanted.last.isoformat(),
        "method": wanted.method.value if wanted.method else "",
        "status": wanted.status.value if wanted.status else "",
    }
    return view.render(
        "payments.html",
        page=page,
        number=number,
        params=params,
        methods=[method.value for method in PaymentMethod],
        statuses=[status.value for status in PaymentStatus],
        may_export=view.can(Permission.EXPORT_DATA),
    )


def payments_csv(view: View) -> Response:
    """The payments asked for as a CSV file (every page); the export is audited."""
    with view.uow() as uow:
        wanted = _filter(view, uow)
        export = export_payments(
            uow, view.actor, wanted.first, wanted.last, method=wanted.method, status=wanted.status
        )
        uow.commit()  # the audit entry of the export
    return csv_download(export.content, export.filename)


def payment_routes(console: Console) -> list[BaseRoute]:
    return [
        Route("/payments", console.page(payments), methods=["GET"]),
        Route(
            "/payments.csv",
            console.page(payments_csv, permission=Permission.EXPORT_DATA),
            methods=["GET"],
        ),
    ]
