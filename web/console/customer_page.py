"""A customer's page: the details tab (with the login password revealed once to an admin), the
edit form, and the action forms' endpoints (web.console.customer_actions)."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from starlette.responses import Response
from starlette.routing import Route

from core.actors import Permission
from core.models import Customer
from core.unit_of_work import UnitOfWork
from core.usecases.account_details import show_password
from core.usecases.customers import CustomerChanges, edit_customer
from core.usecases.network import list_routers
from core.vocabulary import parse_choice
from web.console.customer_actions import customer_action_routes
from web.console.customer_frame import customer_frame, find_customer
from web.console.framework import PREFIX, Console, View

# The edit form's text fields: (form field, CustomerChanges field, label).
EDIT_FIELDS = (
    ("full_name", "full_name", "Full name"),
    ("phone", "phone", "Phone"),
    ("email", "email", "Email"),
    ("physical_address", "physical_address", "Physical address"),
    ("username", "username", "Login username"),
    ("ip_address", "ip_address", "IP address (empty: pick one automatically)"),
    ("router", "router", "Router"),
    ("parent", "parent", "Sub-account of (account number; empty: none)"),
    ("account_number2", "account_number2", "Additional account number (empty: none)"),
    ("notes", "notes", "Notes"),
)


class YesNo(StrEnum):
    YES = "yes"
    NO = "no"


def _account(view: View) -> str:
    return str(view.request.path_params["account"])


def _details(view: View, uow: UnitOfWork, customer: Customer, password: str | None) -> Response:
    return view.render(
        "customer/details.html", **customer_frame(uow, customer, ""), password=password
    )


def details(view: View) -> Response:
    """The details tab: every fact of the card; the password masked."""
    with view.uow(read_only=True) as uow:
        customer = find_customer(uow, _account(view))
        return _details(view, uow, customer, None)


def reveal_password(view: View) -> Response:
    """The details tab with the login password shown this once (audited, never stored)."""
    with view.uow() as uow:
        customer = find_customer(uow, _account(view))
        password = show_password(uow, customer.id, view.actor)
        uow.commit()
    with view.uow(read_only=True) as uow:
        customer = find_customer(uow, _account(view))
        return _details(view, uow, customer, password)


def _current(customer: Customer) -> dict[str, str]:
    """The edit form's values as the customer has them now."""
    return {
        "full_name": customer.full_name,
        "phone": customer.phone or "",
        "email": customer.email or "",
        "physical_address": customer.physical_address or "",
        "username": customer.username,
        "ip_address": customer.ip_address or "",
        "router": customer.router.name if customer.router else "",
        "parent": customer.parent.account_number if customer.parent else "",
        "account_number2": customer.account_number2 or "",
        "notes": customer.notes or "",
    }


def _edit_form(
    view: View, uow: UnitOfWork, customer: Customer, values: dict[str, str], auto_renew: bool
) -> Response:
    return view.render(
        "customer/edit.html",
        account=customer.account_number,
        full_name=customer.full_name,
        fields=EDIT_FIELDS,
        values=values,
        auto_renew=auto_renew,
        routers=[router.name for router in list_routers(uow)],
    )


def edit_page(view: View) -> Response:
    """The edit form, filled with the customer's details."""
    with view.uow(read_only=True) as uow:
        customer = find_customer(uow, _account(view))
        return _edit_form(view, uow, customer, _current(customer), customer.auto_renew)


def save_edit(view: View) -> Response:
    """Save what the form changed (only the fields that differ), as the bot's /edit does."""
    posted = set(view.form.keys()) if view.form is not None else set()
    with view.uow() as uow:
        customer = find_customer(uow, _account(view))
        current = _current(customer)
        # A field the form did not send is left as it is; one sent empty clears it.
        changed: dict[str, Any] = {
            change: view.field(field).strip()
            for field, change, _ in EDIT_FIELDS
            if field in posted and view.field(field).strip() != current[field]
        }
        if "auto_renew" in posted:
            auto_renew = parse_choice(YesNo, view.field("auto_renew"), "auto-renew") is YesNo.YES
            if auto_renew != customer.auto_renew:
                changed["auto_renew"] = auto_renew
        if view.flag("generate_account_number2"):
            changed["generate_account_number2"] = True
        if not changed:
            return view.redirect(
                f"{PREFIX}/customers/{customer.account_number}", flash="Nothing changed."
            )
        edit_customer(uow, customer.id, view.actor, CustomerChanges(**changed))
        account = customer.account_number
        uow.commit()
    named = ", ".join(label for field, change, label in EDIT_FIELDS if change in changed)
    if "auto_renew" in changed:
        named = ", ".join(filter(None, (named, "auto-renew")))
    if "generate_account_number2" in changed and "account_number2" not in changed:
        named = ", ".join(filter(None, (named, "additional account number")))
    return view.redirect(f"{PREFIX}/customers/{account}", flash=f"Saved: {named}.")


def customer_page_routes(console: Console) -> list[Route]:
    """The details tab, the password reveal, the edit form and every action form's POST."""
    manage = Permission.MANAGE_CUSTOMERS
    return [
        Route("/customers/{account}", console.page(details), methods=["GET"]),
        Route(
            "/customers/{account}/reveal-password",
            console.action(reveal_password, permission=manage),
            methods=["POST"],
        ),
        Route(
            "/customers/{account}/edit", console.page(edit_page, permission=manage), methods=["GET"]
        ),
        Route(
            "/customers/{account}/edit",
            console.action(save_edit, permission=manage),
            methods=["POST"],
        ),
        *customer_action_routes(console),
    ]
