"""What every tab of a customer's page shows above the tab: the card (banner, facts) and the
choices its action forms offer. Each tab's handler calls ``customer_frame`` and renders a
template that extends ``customer/layout.html`` with these values plus its own."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from core.card_actions import CARD_ACTIONS, fits_status
from core.display import relative
from core.errors import CustomerNotFound, InvalidAccountNumber
from core.lookup import by_account_number
from core.models import Customer
from core.phones import display_phone
from core.queries import customer_card
from core.unit_of_work import UnitOfWork
from core.usage import period_summary
from core.usecases.plans import list_plans
from core.usecases.service import plan_change_cancels

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


@dataclass(frozen=True)
class PlanChoice:
    """A plan the change-plan form offers."""

    name: str
    price_kes: int
    download: str
    upload: str


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
    """The values ``customer/layout.html`` needs: the card, the tabs, the action forms that fit
    the customer's status with the permission each needs (the template asks ``can`` about the
    viewer's role), and the plans the change-plan form may offer (active plans of the customer's
    connection type) with the plan pending at renewal that each would cancel if chosen now."""
    card = customer_card(uow, customer)
    # Plain values: pages render after the read-only transaction ended (and expired the rows).
    plans = [
        PlanChoice(plan.name, plan.price_kes, plan.download, plan.upload)
        for plan in list_plans(uow, customer.connection_type)
    ]
    usage = card.data_usage
    return {
        "customer": customer,
        "card": card,
        "tab": tab,
        "tabs": TABS,
        "plans": plans,
        "plan_cancels": {
            plan.name: plan_change_cancels(uow, customer.id, plan.name) for plan in plans
        },
        "actions": {
            action.name: action.permission.value
            for action in CARD_ACTIONS
            if fits_status(action, card.status)
        },
        "phone_shown": display_phone(card.phone) if card.phone else None,
        "expires_in": relative(card.expires_at, uow.clock.now()),
        "data_summary": (
            period_summary(usage)
            if usage is not None and (usage.cap_bytes is not None or usage.started_at)
            else None
        ),
    }
