"""The customer list (``/staff/customers``): search, filters, sort and pages, as the bot's
``/list`` and the CLI's ``customer list`` read them through ``core.customer_list``; and the same
list as a CSV file (``/staff/customers.csv``) for admins and owners."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response
from starlette.routing import Route

from core.actors import Permission
from core.customer_list import (
    BalanceFilter,
    CustomerFilter,
    ListStatus,
    SortKey,
    export_customers,
    list_customers,
    read_filter,
)
from core.errors import InvalidInput, NotFound
from core.unit_of_work import UnitOfWork
from core.usecases.network import list_routers
from core.usecases.plans import list_plans
from core.vocabulary import ConnectionType
from web.console.framework import PREFIX, Console, View, csv_download, query_url

PAGE = 20
MAX_PAGE_NUMBER = 100_000
# Query parameter → read_filter's keyword; the form's fields have these names.
FILTER_PARAMETERS = {
    "q": "search",
    "status": "status",
    "plan": "plan",
    "router": "router",
    "type": "connection_type",
    "balance": "balance",
    "created_from": "created_from",
    "created_to": "created_to",
    "expires_from": "expires_from",
    "expires_to": "expires_to",
    "sort": "sort",
}


def _parameters(view: View) -> dict[str, str]:
    """The filter parameters given (blank ones left out), as typed."""
    given = {name: view.query(name).strip() for name in FILTER_PARAMETERS}
    for name, value in given.items():
        # A NUL byte is no name, number or day, and PostgreSQL refuses it in a statement.
        if "\x00" in value:
            raise InvalidInput(f"the {name} parameter holds a character no filter takes")
    return {name: value for name, value in given.items() if value}


def _filter(uow: UnitOfWork, parameters: dict[str, str]) -> CustomerFilter:
    try:
        return read_filter(
            uow, **{FILTER_PARAMETERS[name]: value for name, value in parameters.items()}
        )
    except NotFound as exc:
        # An unknown plan or router in the address is a bad filter, not a missing page.
        raise InvalidInput(exc.message) from None


def _page_number(text: str) -> int:
    if not text.strip():
        return 1
    try:
        number = int(text.strip())
    except ValueError:
        raise InvalidInput(f"the page is a number from 1, not {text.strip()[:40]!r}") from None
    if not 1 <= number <= MAX_PAGE_NUMBER:
        raise InvalidInput(f"the page is a number from 1 to {MAX_PAGE_NUMBER:,}, not {number}")
    return number


def customers(view: View) -> Response:
    """One page of the list, with the filter form, the count and Previous/Next."""
    parameters = _parameters(view)
    number = _page_number(view.query("page"))
    with view.uow(read_only=True) as uow:
        where = _filter(uow, parameters)
        page = list_customers(uow, view.actor, where, limit=PAGE, offset=(number - 1) * PAGE)
        choices = _choices(uow)
    path = f"{PREFIX}/customers"
    return view.render(
        "customers.html",
        page=page,
        number=number,
        params=parameters,
        previous_url=_page_url(path, parameters, number - 1) if number > 1 else None,
        next_url=_page_url(path, parameters, number + 1) if page.has_more else None,
        csv_url=query_url(f"{PREFIX}/customers.csv", parameters),
        choices=choices,
    )


def _page_url(path: str, parameters: dict[str, str], number: int) -> str:
    """The list's address at page ``number``, its filters kept (page 1 has no ``page``)."""
    return query_url(path, parameters, page=number if number > 1 else None)


def _choices(uow: UnitOfWork) -> dict[str, Any]:
    """What the form's selects offer: core's words and the ISP's plans and routers."""
    return {
        "status": [status.value for status in ListStatus],
        "plan": [plan.name for plan in list_plans(uow, include_inactive=True)],
        "router": [router.name for router in list_routers(uow)],
        "type": [kind.value for kind in ConnectionType],
        "balance": [kind.value for kind in BalanceFilter],
        "sort": [key.value for key in SortKey],
    }


def customers_csv(view: View) -> Response:
    """The whole filtered list as a CSV file (audited by core)."""
    parameters = _parameters(view)
    with view.uow() as uow:
        export = export_customers(uow, view.actor, _filter(uow, parameters))
        uow.commit()
    return csv_download(export.content, export.filename)


def customer_list_routes(console: Console) -> list[Route]:
    return [
        Route("/customers", console.page(customers), methods=["GET"]),
        Route(
            "/customers.csv",
            console.page(customers_csv, permission=Permission.EXPORT_DATA),
            methods=["GET"],
        ),
    ]
