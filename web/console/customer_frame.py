"""What every tab of a customer's page shows above the tab: the card (banner, facts) and the
choices its action forms offer. Each tab's handler calls ``customer_frame`` and renders a
template that extends ``customer/layout.html`` with these values plus its own."""

from __future__ import annotations

from typing import Any

from core.errors import CustomerNotFound, InvalidAccountNumber
from core.lookup import by_account_number
from core.models import Customer
from core.queries import customer_card
from core.unit_of_work import UnitOfWork
from core.usecases.plans import list_plans

# (path segment, label): the customer's tabs, in order; "" is the details tab.
TABS = (
    ("", "Details"),
    ("transactions", "Transactions"),
    ("invoices", "Invoices"),
    ("sub-accounts", "Sub-accounts"),
    ("usage", "Live usage"),
    ("daily-usage", "Daily usage"),
    ("extensions", "Extension history"),
    ("sms", "SMS history"),
    ("logs", "Logs"),
    ("notes", "Notes & tickets"),
)


def find_customer(uow: UnitOfWork, account: str) -> Customer:
    """The live customer an account number in a URL names; 404 when none (a mistyped number
    included: in a URL it names no page)."""
    try:
        customer = by_account_number(uow, account)
    except InvalidAccountNumber:
        customer = None
    if customer is None:
        raise CustomerNotFound(f"no customer with account number {account}")
    return customer


def customer_frame(uow: UnitOfWork, customer: Customer, tab: str) -> dict[str, Any]:
    """The values ``customer/layout.html`` needs: the card, the tabs, and the plans the
    change-plan form may offer (active plans of the customer's connection type)."""
    return {
        "customer": customer,
        "card": customer_card(uow, customer),
        "tab": tab,
        "tabs": TABS,
        "plans": list_plans(uow, customer.connection_type),
    }
